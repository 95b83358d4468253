using System.Diagnostics;

namespace VirtApi.Hypervisor.Vm;

/// <summary>
/// The one wall-clock reading in the hypervisor: host time spent running a guest, for the
/// statistics (DESIGN.md "measured host time"). Its readings go to the counters only and never reach
/// guest-visible state, which runs on virtual time, so runs stay deterministic.
/// </summary>
public struct HostTimer
{
    private long _elapsedTicks;

    /// <summary>Total measured time.</summary>
    public readonly double Seconds => (double)_elapsedTicks / Stopwatch.Frequency;

    /// <summary>Starts one measurement; pass the value to <see cref="Stop"/>.</summary>
#pragma warning disable RS0030 // HostTimer is the sanctioned wrapper around the banned Stopwatch API.
    public static long Start() => Stopwatch.GetTimestamp();

    /// <summary>Adds the time since <paramref name="started"/>.</summary>
    public void Stop(long started) => _elapsedTicks += Stopwatch.GetTimestamp() - started;
#pragma warning restore RS0030
}
