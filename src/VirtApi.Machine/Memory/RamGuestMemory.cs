namespace VirtApi.Machine.Memory;

/// <summary>
/// Guest memory of a native board: guest-physical addresses are the board's RAM addresses. Writes go
/// through <see cref="SparseRam.WriteBytes"/>, which drops decoded instructions of
/// the bytes as a hart's store would. They are not reported to <see cref="Bus.SystemBus.RamStoreObserver"/>
/// or <see cref="Bus.SystemBus.Monitor"/>: those watch harts' stores (LR/SC reservations, HTIF, a VMM's
/// write protection), and a device is not a hart. RAM's own dirty log (<see cref="SparseRam.TakeDirtyFrames"/>)
/// does record them: a snapshot's diff must hold every frame that changed.
/// </summary>
public sealed class RamGuestMemory(SparseRam ram) : IGuestMemory
{
    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (!Contains(address, destination.Length))
        {
            return false;
        }
        ram.ReadBytes(address, destination);
        return true;
    }

    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (!Contains(address, source.Length))
        {
            return false;
        }
        ram.WriteBytes(address, source);
        return true;
    }

    // Overflow-safe: a descriptor's address and length are the guest's to choose, up to 2^64 - 1.
    private bool Contains(ulong address, int length) => address - ram.Base < ram.Size && (ulong)length <= ram.Size - (address - ram.Base);
}
