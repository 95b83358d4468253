using System.Collections.Immutable;

namespace VirtApi.Machine.Hart;

/// <summary>
/// The saved <see cref="CsrFile"/>: every CSR that holds a value. Constants (misa, the ID registers)
/// and the counters read from the hart (cycle, instret, time) are not here; <c>mhartid</c> comes from
/// the hart the file is restored into.
/// </summary>
public sealed record CsrFileState
{
    public required ulong Mstatus { get; init; }

    public required ulong Medeleg { get; init; }

    public required ulong Mideleg { get; init; }

    public required ulong Mie { get; init; }

    /// <summary>The software-writable pending bits (<see cref="CsrFile.MipSoftware"/>).</summary>
    public required ulong MipSoftware { get; init; }

    /// <summary>
    /// The platform-driven pending bits as they were (<see cref="CsrFile.MipPlatform"/>). Saved rather
    /// than only recomputed: the PLIC and CLINT drive them again on restore and must find the same lines.
    /// </summary>
    public required ulong MipPlatform { get; init; }

    public required ulong Mtvec { get; init; }

    public required ulong Stvec { get; init; }

    public required ulong Mscratch { get; init; }

    public required ulong Sscratch { get; init; }

    public required ulong Mepc { get; init; }

    public required ulong Sepc { get; init; }

    public required ulong Mcause { get; init; }

    public required ulong Scause { get; init; }

    public required ulong Mtval { get; init; }

    public required ulong Stval { get; init; }

    public required ulong Satp { get; init; }

    public required ulong Mcounteren { get; init; }

    public required ulong Scounteren { get; init; }

    public required ulong Menvcfg { get; init; }

    public required ulong Stimecmp { get; init; }

    public required ulong Mcountinhibit { get; init; }

    /// <summary>pmpcfg0..15 as written (only the even ones are reachable on RV64).</summary>
    public required ImmutableArray<ulong> PmpCfg { get; init; }

    /// <summary>pmpaddr0..63 as written.</summary>
    public required ImmutableArray<ulong> PmpAddr { get; init; }
}
