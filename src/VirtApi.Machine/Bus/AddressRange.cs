namespace VirtApi.Machine.Bus;

/// <summary>
/// A half-open physical address range [Start, Start + Length). Half-open so that adjacent
/// regions never share a byte and overlap checks are exact (Firecracker <c>BusRange</c>).
/// </summary>
public readonly record struct AddressRange(ulong Start, ulong Length)
{
    /// <summary>The first address past the range.</summary>
    public ulong End => Start + Length;

    /// <summary>Whether <paramref name="address"/> lies inside the range.</summary>
    public bool Contains(ulong address) => address - Start < Length;

    /// <summary>Whether an access of <paramref name="size"/> bytes at <paramref name="address"/> lies wholly inside.</summary>
    public bool Contains(ulong address, int size) => address - Start < Length && address - Start + (ulong)size <= Length;

    /// <summary>Whether the two ranges share at least one address.</summary>
    public bool Overlaps(AddressRange other) => Start < other.End && other.Start < End;

    public override string ToString() => $"[0x{Start:x}, 0x{End:x})";
}
