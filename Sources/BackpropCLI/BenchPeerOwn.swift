import Backprop
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Backprop's side of `mlp-bench --peers`, measured in process the way `bench.py` measures a
/// peer's worker: a fresh stepper (model, trainer and batch) built on a thread pinned to CPUs
/// `0..<P` (the trainer's helper threads, started then, inherit the mask, as the peers' threads
/// inherit `taskset`'s), one untimed step, `warmup` untimed steps, then `windows` timed windows
/// of `steps` consecutive steps; a window's rate is `batch · steps / seconds` by the wall clock.
/// The stepper is released (its threads joined) and the affinity restored before returning.
struct OwnPeerMeasurement {
    var windowRates: [Double] = []
    var otherCPUShare: [Double] = []
    /// The CPUs the measuring thread was allowed while it ran.
    var affinity: [Int] = []

    static func measure(configuration c: BenchConfiguration, threads: Int, windows: Int,
                        makeStepper: BenchStepperFactory) throws -> OwnPeerMeasurement {
        try ThreadAffinity.withPinned(to: Array(0..<threads)) {
            var m = OwnPeerMeasurement(affinity: ThreadAffinity.current())
            let stepper = try makeStepper(c, threads)
            if let trainer = stepper as? BenchTrainerStepper {
                let running = trainer.placementReport.plan.threadCount
                guard running == threads else {
                    throw PeerError.ownThreadCount(configuration: c.name, threads: threads, running: running,
                                                   topologyCPUs: trainer.placementReport.topology.cpuCount)
                }
            }
            try stepper.step()
            for _ in 0..<c.warmup { try stepper.step() }
            for _ in 0..<windows {
                let stat0 = CPUStat.busySeconds(cpus: m.affinity), own0 = processCPUSeconds()
                let t0 = benchSeconds()
                for _ in 0..<c.steps { try stepper.step() }
                let elapsed = benchSeconds() - t0
                let stat1 = CPUStat.busySeconds(cpus: m.affinity), own1 = processCPUSeconds()
                m.windowRates.append(Double(c.batch * c.steps) / elapsed)
                if let stat0, let stat1 {
                    m.otherCPUShare.append(CPUStat.otherShare(busy: stat1 - stat0, own: own1 - own0, elapsed: elapsed,
                                                              cpus: m.affinity.count))
                }
            }
            return m
        }
    }
}

/// What `/proc/stat` says the CPUs did, as `bench.py` reads it.
enum CPUStat {
    /// Seconds the CPUs numbered `cpus` spent busy (user + nice + system + irq + softirq, all
    /// processes) since boot; nil where `/proc/stat` cannot be read.
    static func busySeconds(cpus: [Int]) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return busySeconds(procStat: text, cpus: cpus, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    /// `busySeconds` from the text of `/proc/stat`.
    static func busySeconds(procStat: String, cpus: [Int], ticksPerSecond: Double) -> Double? {
        let names = Set(cpus.map { "cpu\($0)" })
        var ticks = 0, found = 0
        for line in procStat.split(separator: "\n") where line.hasPrefix("cpu") {
            let fields = line.split(separator: " ")
            guard let name = fields.first, names.contains(String(name)), fields.count >= 8 else { continue }
            let v = fields.dropFirst().prefix(7).compactMap { Int($0) }
            guard v.count == 7 else { return nil }
            ticks += v[0] + v[1] + v[2] + v[5] + v[6]
            found += 1
        }
        return found == names.count && ticksPerSecond > 0 ? Double(ticks) / ticksPerSecond : nil
    }

    /// The share of `cpus` CPUs over `elapsed` seconds that other processes used, given the
    /// CPUs' `busy` seconds and this process's `own` CPU seconds (rounded to 0.001, at least 0).
    static func otherShare(busy: Double, own: Double, elapsed: Double, cpus: Int) -> Double {
        guard elapsed > 0, cpus > 0 else { return 0 }
        return (max(0, busy - own) / (elapsed * Double(cpus)) * 1000).rounded() / 1000
    }
}

/// User + system CPU seconds of the whole process (`getrusage`).
func processCPUSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The scheduling priority `mlp-bench --peers --nice N` gives its own measurements, as
/// `bench.py --nice N` does to each peer worker: the calling thread's nice value (on Linux a
/// per-thread value, inherited by the threads a trainer starts later) and the nice value of
/// the process's scheduler autogroup (`/proc/self/autogroup`; with autogroups on, a nice value
/// only counts against processes of the same session). `restore()` puts both back; a run
/// interrupted before it leaves the session's autogroup at the raised priority.
final class PriorityRaise {
    let requested: Int
    private let savedNice: Int32
    private let savedAutogroup: Int?
    /// The values in force after `init`: what the report states.
    let nice: Int
    let autogroupNice: Int?
    /// Why the nice value could not be set, if it could not.
    let warning: String?

    init(nice requested: Int) {
        self.requested = requested
        errno = 0
        savedNice = getpriority(PRIO_PROCESS_WHICH, 0)
        savedAutogroup = PriorityRaise.autogroupNice()
        var warning: String?
        if requested != 0 {
            if setpriority(PRIO_PROCESS_WHICH, 0, Int32(requested)) != 0 {
                warning = "cannot set nice \(requested): \(String(cString: strerror(errno))) (run as root for negative values)"
            }
            if savedAutogroup != nil {
                try? String(requested).write(toFile: "/proc/self/autogroup", atomically: false, encoding: .utf8)
            }
        }
        self.warning = warning
        errno = 0
        nice = Int(getpriority(PRIO_PROCESS_WHICH, 0))
        autogroupNice = PriorityRaise.autogroupNice()
    }

    func restore() {
        guard requested != 0 else { return }
        _ = setpriority(PRIO_PROCESS_WHICH, 0, savedNice)
        if let savedAutogroup {
            try? String(savedAutogroup).write(toFile: "/proc/self/autogroup", atomically: false, encoding: .utf8)
        }
    }

    /// The nice value in `/proc/self/autogroup` (`/autogroup-175 nice 0`), or nil.
    static func autogroupNice() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/autogroup", encoding: .utf8) else { return nil }
        return text.split(whereSeparator: \.isWhitespace).last.flatMap { Int($0) }
    }
}

#if canImport(Glibc)
private let PRIO_PROCESS_WHICH = __priority_which_t(PRIO_PROCESS.rawValue)
#else
private let PRIO_PROCESS_WHICH = PRIO_PROCESS
#endif
