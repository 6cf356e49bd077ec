import Backprop

/// Placeholder until mlp-train lands.
public enum TrainCommand {
    public static func main(_ arguments: [String]) -> Int32 { 0 }
}
