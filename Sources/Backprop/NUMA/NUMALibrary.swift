import CBackpropSupport

/// Whether Backprop can place memory on NUMA nodes on this machine, and if not, why.
///
/// libnuma is loaded at run time (`dlopen("libnuma.so.1")`), never linked: a program linked
/// against it would not even start where the `libnuma1` package is missing, whereas Backprop
/// only loses NUMA placement there and trains with uniform placement.
public enum NUMASupport: Sendable, Hashable, CustomStringConvertible {
    /// libnuma is loaded and `numa_available()` ≥ 0: topology queries and memory policies work.
    case available
    /// The shared library could not be loaded; the associated value is the dynamic loader's message.
    case libraryMissing(String)
    /// The library was loaded but lacks the named function (a libnuma older than 2.0).
    case symbolMissing(String)
    /// `numa_available()` < 0: the kernel has no NUMA support, or the memory-policy system
    /// calls are refused (a container's seccomp filter, for example).
    case unavailable

    /// Whether memory policies can be set.
    public var isAvailable: Bool { self == .available }

    public var description: String {
        switch self {
        case .available: return "libnuma available"
        case .libraryMissing(let message): return "libnuma.so.1 not loadable (\(message))"
        case .symbolMissing(let name): return "libnuma.so.1 lacks \(name)"
        case .unavailable: return "numa_available() < 0 (no kernel NUMA support, or memory-policy calls refused)"
        }
    }
}

/// libnuma's functions, resolved at run time. The library is never unloaded.
final class NUMALibrary: @unchecked Sendable {
    /// The resolved entry points (all non-nil).
    let functions: bp_numa_functions

    private init(functions: bp_numa_functions) { self.functions = functions }

    /// The shared library's name: the run-time package's soname (libnuma1 on Debian), so the
    /// `-dev` package is not needed to run.
    static let soname = "libnuma.so.1"

    /// The process-wide load of `soname`, made once.
    static let shared: (library: NUMALibrary?, support: NUMASupport) = load(soname: soname)

    /// Loads `soname` and checks `numa_available()`. Another name (one that does not exist)
    /// lets tests see how Backprop behaves without libnuma.
    static func load(soname: String) -> (library: NUMALibrary?, support: NUMASupport) {
        var functions = bp_numa_functions()
        var message = [CChar](repeating: 0, count: 512)
        let status = bp_numa_load(soname, &functions, &message, message.count)
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        switch status {
        case 0: break
        case -2: return (nil, .symbolMissing(text))
        default: return (nil, .libraryMissing(text))
        }
        guard let available = functions.available, available() >= 0 else { return (nil, .unavailable) }
        return (NUMALibrary(functions: functions), .available)
    }

    /// `numa_node_of_cpu`, or nil when libnuma does not know the CPU.
    func node(ofCPU cpu: Int) -> Int? {
        let node = functions.node_of_cpu!(Int32(cpu))
        return node >= 0 ? Int(node) : nil
    }

    /// `numa_distance` (10 for a node to itself in ACPI's scale), or nil when unknown.
    func distance(from a: Int, to b: Int) -> Int? {
        let d = functions.distance!(Int32(a), Int32(b))
        return d > 0 ? Int(d) : nil
    }

    /// `numa_node_size64`: bytes of memory on `node`, or nil when unknown.
    func memoryBytes(ofNode node: Int) -> Int? {
        let size = functions.node_size64!(Int32(node), nil)
        return size > 0 ? Int(size) : nil
    }
}
