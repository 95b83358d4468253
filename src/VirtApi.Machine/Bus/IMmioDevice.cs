namespace VirtApi.Machine.Bus;

/// <summary>
/// A memory-mapped device on the system bus. The bus has already checked that the access lies in
/// the device's range and passes the offset from the range's start. Accesses are 1, 2, 4 or 8 bytes
/// wide. Returning <c>false</c> means the device refuses that access (wrong width or offset), which the
/// hart turns into an access fault, as a real bus error would.
/// </summary>
public interface IMmioDevice
{
    /// <summary>Reads <paramref name="size"/> bytes at <paramref name="offset"/>; zero-extended into <paramref name="value"/>.</summary>
    bool Read(ulong offset, int size, out ulong value);

    /// <summary>Writes the low <paramref name="size"/> bytes of <paramref name="value"/> at <paramref name="offset"/>.</summary>
    bool Write(ulong offset, int size, ulong value);
}
