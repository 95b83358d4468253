namespace VirtApi.Machine.Devices.Block;

/// <summary>
/// The medium behind a disk controller (virtio-blk, ATA): whole 512-byte sectors by number. Its
/// contents are not the machine's saved state; they live in the store, which outlives the device.
/// </summary>
public interface IBlockStore
{
    /// <summary>Bytes per sector: what virtio-blk counts in (virtio 1.2 §5.2.6) and an ATA sector of 256 words (ATA/ATAPI-6 3.1.41).</summary>
    const int SectorSize = 512;

    /// <summary>Sectors of <see cref="SectorSize"/> bytes.</summary>
    ulong SectorCount { get; }

    /// <summary>Reads whole sectors starting at <paramref name="sector"/> into <paramref name="destination"/> (a multiple of 512 bytes); false when out of range.</summary>
    bool TryRead(ulong sector, Span<byte> destination);

    /// <summary>Writes whole sectors; false when out of range.</summary>
    bool TryWrite(ulong sector, ReadOnlySpan<byte> source);

    /// <summary>Makes written sectors durable.</summary>
    void Flush();
}
