import BackpropCLI
import Foundation
exit(TrainCommand.main(Array(CommandLine.arguments.dropFirst())))
