namespace VirtApi.Machine.Devices;

/// <summary>
/// The medium behind a disk controller: a fixed number of 512-byte sectors, numbered from 0. The
/// controller checks every guest-supplied address against <see cref="SectorCount"/> before it calls
/// the store, so a store may treat a call outside its sectors as a bug in the caller and throw.
/// What the store holds is the disk's contents: it is not part of any device's saved state.
/// </summary>
public interface IBlockStore
{
    /// <summary>Bytes per sector (ATA/ATAPI-6 3.1.41: a sector is 256 words).</summary>
    const int SectorSize = 512;

    /// <summary>Sectors on the medium; at least one.</summary>
    ulong SectorCount { get; }

    /// <summary>
    /// Copies sectors <paramref name="sector"/> onwards into <paramref name="destination"/>, whose
    /// length is a whole number of sectors, all below <see cref="SectorCount"/>. A sector never
    /// written reads as zeros.
    /// </summary>
    void Read(ulong sector, Span<byte> destination);

    /// <summary>Stores <paramref name="source"/> (a whole number of sectors) at sector <paramref name="sector"/> onwards.</summary>
    void Write(ulong sector, ReadOnlySpan<byte> source);

    /// <summary>Makes every completed write durable (what FLUSH CACHE asks of the medium).</summary>
    void Flush();
}
