using System.Collections.Immutable;
using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Snapshots;

/// <summary>Copies guest pages out of RAM for a capture, the same way under every technique.</summary>
internal static class GuestMemoryCapture
{
    /// <summary>
    /// The pages of a capture: for <see cref="SnapshotScope.Full"/> every guest frame that holds data,
    /// for <see cref="SnapshotScope.Diff"/> those the RAM's dirty log names; both start a new log.
    /// <paramref name="frames"/> lists (guest-physical, machine) addresses of the guest's frames;
    /// <paramref name="toGuest"/> maps a dirty machine frame back to its guest frame (false for frames
    /// that are not the guest's, such as a VMM's own tables).
    /// </summary>
    public static ImmutableArray<GuestPage> Pages(
        SparseRam ram,
        SnapshotScope scope,
        Func<IEnumerable<(ulong GuestPhysical, ulong Machine)>> frames,
        Func<ulong, ulong?> toGuest)
    {
        var pages = ImmutableArray.CreateBuilder<GuestPage>();
        if (scope == SnapshotScope.Full)
        {
            ram.ClearDirtyFrames();
            foreach (var (guest, machine) in frames())
            {
                if (ram.FrameAt(machine) is { } frame)
                {
                    pages.Add(new GuestPage(guest, frame.AsSpan().ToArray()));
                }
            }
            return pages.ToImmutable();
        }
        foreach (var machine in ram.TakeDirtyFrames())
        {
            if (toGuest(machine) is { } guest)
            {
                pages.Add(new GuestPage(guest, ram.FrameAt(machine)?.AsSpan().ToArray() ?? new byte[SparseRam.FrameSize]));
            }
        }
        pages.Sort((a, b) => a.Address.CompareTo(b.Address));
        return pages.ToImmutable();
    }
}
