namespace VirtApi.Machine.Memory;

/// <summary>
/// Guest RAM as a device doing DMA sees it: guest-physical addresses, byte spans. Natively this is the
/// board's <see cref="SparseRam"/> (<see cref="RamGuestMemory"/>); under a hypervisor the VMM supplies
/// one that translates each guest frame through its P2M (and may log the frames written as dirty).
/// A device never touches memory any other way, so it can never reach outside the guest's RAM.
/// </summary>
public interface IGuestMemory
{
    /// <summary>
    /// Copies the <c>destination.Length</c> bytes at <paramref name="address"/> into <paramref name="destination"/>.
    /// False, with nothing read, when any of them lies outside guest RAM.
    /// </summary>
    bool TryRead(ulong address, Span<byte> destination);

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="address"/>. False, with nothing written, when
    /// any byte would lie outside guest RAM. Writes keep every rule a hart's store keeps for the bytes
    /// themselves (decoded instructions of the bytes are dropped).
    /// </summary>
    bool TryWrite(ulong address, ReadOnlySpan<byte> source);
}
