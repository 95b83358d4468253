using System.Collections.Immutable;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Techniques.TrapAndEmulate;
using VirtApi.Machine.Board;

namespace VirtApi.Hypervisor.Snapshots;

/// <summary>
/// Everything a snapshot holds of a VM besides its memory (DESIGN.md "Snapshots"), by component: the
/// board (harts, CLINT, PLIC, UART, clock), the VM's devices, and under a VMM the VMM's own state. Guest memory is kept
/// apart, page by page (<see cref="GuestPage"/>), so that pages can be stored once by content.
/// </summary>
public sealed record VmSnapshotState
{
    /// <summary>The <see cref="SnapshotFormat.Version"/> it was written in.</summary>
    public required int Format { get; init; }

    /// <summary>The technique it was running under; it restores under the same one.</summary>
    public required CpuMode CpuMode { get; init; }

    /// <summary>The guest's harts.</summary>
    public required int Vcpus { get; init; }

    /// <summary>The guest's RAM in bytes.</summary>
    public required ulong GuestMemoryBytes { get; init; }

    /// <summary>The board: under <c>native</c> the guest's machine, under a VMM the host's (whose real CSRs the VMM set).</summary>
    public required BoardState Board { get; init; }

    /// <summary>The VM's devices beyond the board's own, by name; null when it had none. Disks' contents are in their files, not here.</summary>
    public DeviceSetState? Devices { get; init; }

    /// <summary>The trap-and-emulate VMM's state; null under <c>native</c>.</summary>
    public TrapAndEmulateState? TrapAndEmulate { get; init; }
}

/// <summary>One 4 KiB page of guest-physical memory as captured: its address and a copy of its bytes.</summary>
public sealed record GuestPage(ulong Address, byte[] Bytes)
{
    /// <summary>Every byte is zero (such a page is recorded, not stored).</summary>
    public bool IsZero => !Bytes.AsSpan().ContainsAnyExcept((byte)0);
}

/// <summary>Which pages a capture holds.</summary>
public enum SnapshotScope
{
    /// <summary>Every guest page that holds data.</summary>
    Full,

    /// <summary>Only the pages written since the previous capture or restore of this run.</summary>
    Diff,
}

/// <summary>What a capture took: the state, and the pages its scope names (copies, safe to keep while the guest runs on).</summary>
public sealed record VmCapture(VmSnapshotState State, ImmutableArray<GuestPage> Pages, SnapshotScope Scope);
