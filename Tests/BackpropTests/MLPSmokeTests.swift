import Backprop
import XCTest

final class MLPSmokeTests: XCTestCase {
    func testSameSeedSameWeights() throws {
        let a = try MLP(sizes: [4, 3, 2], activations: [.relu, .identity], seed: 7)
        let b = try MLP(sizes: [4, 3, 2], activations: [.relu, .identity], seed: 7)
        let c = try MLP(sizes: [4, 3, 2], activations: [.relu, .identity], seed: 8)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }
}
