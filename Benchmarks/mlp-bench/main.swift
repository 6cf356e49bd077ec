import Backprop
print("mlp-bench: not yet")
