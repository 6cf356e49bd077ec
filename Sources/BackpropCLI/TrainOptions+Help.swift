import Backprop
import Foundation

/// One flag of `mlp-train`: its names (the first is canonical), the name of its value
/// (`nil` for a switch), and its line of help.
struct FlagSpec: Sendable {
    var names: [String]
    var valueName: String?
    var help: String
}

extension TrainOptions {
    /// Every flag `mlp-train` accepts, in the order `--help` lists them.
    static let flags: [FlagSpec] = [
        FlagSpec(names: ["--data"], valueName: "DIR",
                 help: "MNIST-style directory (train-images-idx3-ubyte[.gz], …); default \(defaultDataDirectory)"),
        FlagSpec(names: ["--train-images"], valueName: "FILE", help: "IDX training images (with --train-labels)"),
        FlagSpec(names: ["--train-labels"], valueName: "FILE", help: "IDX training labels"),
        FlagSpec(names: ["--test-images"], valueName: "FILE", help: "IDX test images (with --test-labels; optional)"),
        FlagSpec(names: ["--test-labels"], valueName: "FILE", help: "IDX test labels"),
        FlagSpec(names: ["--train-npy"], valueName: "FEATURES,LABELS", help: "NPY training features and integer labels"),
        FlagSpec(names: ["--test-npy"], valueName: "FEATURES,LABELS", help: "NPY test features and labels (optional)"),
        FlagSpec(names: ["--train-csv"], valueName: "FILE", help: "CSV training file: numbers, one label column"),
        FlagSpec(names: ["--test-csv"], valueName: "FILE", help: "CSV test file (optional)"),
        FlagSpec(names: ["--label-column"], valueName: "N", help: "CSV label column, 0-based, negative from the end (default -1, the last)"),
        FlagSpec(names: ["--validation"], valueName: "FRACTION",
                 help: "hold out the last FRACTION of the training set and report it each epoch"),
        FlagSpec(names: ["--layers"], valueName: "N,N,…",
                 help: "layer widths, inputs first (default: features,\(Defaults.hiddenLayers.map(String.init).joined(separator: ",")),classes)"),
        FlagSpec(names: ["--activation"], valueName: "NAME",
                 help: "hidden-layer activation: \(Activation.nameSyntax) (default relu); the output layer is linear"),
        FlagSpec(names: ["--loss"], valueName: "NAME",
                 help: "cross_entropy (softmax on the logits) or mse (against one-hot labels); default cross_entropy"),
        FlagSpec(names: ["--epochs"], valueName: "N", help: "passes over the training set (default \(Defaults.epochs))"),
        FlagSpec(names: ["--batch-size"], valueName: "N", help: "samples per optimizer step (default \(Defaults.batchSize))"),
        FlagSpec(names: ["--lr"], valueName: "RATE", help: "SGD learning rate (default \(Defaults.learningRate))"),
        FlagSpec(names: ["--lr-schedule"], valueName: "NAME",
                 help: "cosine (anneal --lr to 0 over the run, per step) or constant (default \(Defaults.schedule.rawValue)); not with --schedule"),
        FlagSpec(names: ["--threads"], valueName: "N", help: "worker threads (default: all cores)"),
        FlagSpec(names: ["--numa"], valueName: "automatic|interleaved|replicated|none",
                 help: "NUMA placement of threads and buffers (default automatic; uniform on one node; never changes results)"),
        FlagSpec(names: ["--seed"], valueName: "N", help: "seed of the initial weights and the shuffles (default \(Defaults.seed))"),
        FlagSpec(names: ["--steps"], valueName: "N", help: "stop after N optimizer steps in all (resumed runs count earlier steps)"),
        FlagSpec(names: ["--no-shuffle"], valueName: nil, help: "visit the training samples in file order every epoch"),
        FlagSpec(names: ["--init"], valueName: "FILE", help: "start from the weights of this safetensors file"),
        FlagSpec(names: ["--save"], valueName: "FILE", help: "write a checkpoint here at every epoch end and at the end (atomically)"),
        FlagSpec(names: ["--save-every"], valueName: "N",
                 help: "with --save: also write the checkpoint after every N optimizer steps (not only at epoch ends)"),
        FlagSpec(names: ["--resume"], valueName: "FILE", help: "continue a run exactly from its checkpoint"),
        FlagSpec(names: ["--predictions-out"], valueName: "FILE",
                 help: "write the final model's outputs on the test set as float32 NPY (samples × outputs)"),
        FlagSpec(names: ["--json"], valueName: nil,
                 help: "one JSON object per epoch on stdout; human text goes to stderr"),
        FlagSpec(names: ["--quiet"], valueName: nil, help: "no progress bar and no per-epoch lines (errors still print)"),
        FlagSpec(names: ["--help", "-h"], valueName: nil, help: "show this help"),
    ]

    /// The text `mlp-train --help` prints.
    public static var helpText: String {
        var lines = [
            "usage: mlp-train [options]",
            "",
            "Trains a multilayer perceptron with backpropagation and SGD on all cores.",
            "With no options: a 784-" + Defaults.hiddenLayers.map(String.init).joined(separator: "-")
                + "-10 ReLU MLP on Fashion-MNIST (\(defaultDataDirectory)).",
            "",
            "options:",
        ]
        let labels = flags.map { spec in
            spec.names.joined(separator: ", ") + (spec.valueName.map { " " + $0 } ?? "")
        }
        let width = labels.map(\.count).max() ?? 0
        for (label, spec) in zip(labels, flags) {
            lines.append("  " + label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + spec.help)
        }
        lines += [
            "",
            "optimizer options (default: plain SGD at --lr with the --lr-schedule annealing):",
            OptimizerConfiguration.helpText,
            "",
            "Without --schedule, --lr-schedule cosine acts as --schedule cosine (after any --warmup, cosine to 0",
            "at the end of the run, from --lr after --scale-lr); with --schedule, the optimizer's own schedule",
            "replaces --lr-schedule (giving both is a usage error). A checkpoint records the optimizer flags:",
            "--resume rebuilds the same optimizer.",
            "",
            "Each epoch visits the training set in a new order drawn from --seed; the last, partial",
            "batch of an epoch is trained on too. --resume continues bitwise identically to an",
            "uninterrupted run (with any thread count): give the same data flags; the architecture and",
            "hyperparameters come from the checkpoint (flags given override them; with the cosine schedule,",
            "changing --epochs changes the rest of the schedule). Ctrl-C or SIGTERM finishes the current step, saves",
            "a checkpoint (to --save, else \(Defaults.interruptedCheckpoint)) and exits 130 or 143.",
            "Exit status: 0 done, 1 data or runtime error, 2 usage error.",
        ]
        return lines.joined(separator: "\n")
    }
}
