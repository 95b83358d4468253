using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Memory;

/// <summary>
/// Guest memory as a device's DMA sees it under a VMM: each guest-physical frame through the P2M to
/// its machine frame. A write to a frame the guest never touched gives it a machine frame, as a store
/// by the guest would; a read of one reads zeros. Nothing outside the guest's RAM can be named, so a
/// descriptor pointing anywhere else fails the request instead of reaching another VM's frames.
/// </summary>
public sealed class P2mGuestMemory(P2mMap p2m, SparseRam ram) : IGuestMemory
{
    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (!Contains(address, destination.Length))
        {
            return false;
        }
        while (!destination.IsEmpty)
        {
            var chunk = Chunk(address, destination.Length);
            if (p2m.TryLookup(address, out var machine))
            {
                ram.ReadBytes(machine, destination[..chunk]);
            }
            else
            {
                destination[..chunk].Clear();
            }
            address += (ulong)chunk;
            destination = destination[chunk..];
        }
        return true;
    }

    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (!Contains(address, source.Length))
        {
            return false;
        }
        while (!source.IsEmpty)
        {
            var chunk = Chunk(address, source.Length);
            if (!p2m.TryTranslate(address, out var machine))
            {
                return false; // the host has no frame left for this guest
            }
            ram.WriteBytes(machine, source[..chunk]);
            p2m.LogDirty(address); // a back end's DMA dirties the guest's page as a store would
            address += (ulong)chunk;
            source = source[chunk..];
        }
        return true;
    }

    // Bytes from address to the end of its frame, at most length: each frame maps on its own.
    private static int Chunk(ulong address, int length) => (int)Math.Min((ulong)length, SparseRam.FrameSize - (address & (SparseRam.FrameSize - 1)));

    private bool Contains(ulong address, int length) => p2m.Contains(address) && (ulong)length <= p2m.GuestBytes - (address - p2m.GuestBase);
}
