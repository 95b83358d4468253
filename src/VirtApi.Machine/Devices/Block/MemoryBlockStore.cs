namespace VirtApi.Machine.Devices.Block;

/// <summary>
/// A disk held in host memory, sparse like <see cref="Memory.SparseRam"/>: 4 KiB chunks are allocated on
/// first write, and a sector never written reads as zero. Nothing is durable beyond the process, so
/// <see cref="Flush"/> only counts.
/// </summary>
public sealed class MemoryBlockStore : IBlockStore
{
    public const int SectorSize = IBlockStore.SectorSize;
    private const int ChunkSectors = 8;
    private const int ChunkSize = ChunkSectors * SectorSize;

    private readonly Dictionary<ulong, byte[]> _chunks = [];

    public MemoryBlockStore(ulong sectorCount) => SectorCount = sectorCount;

    public ulong SectorCount { get; }

    /// <summary>Calls to <see cref="Flush"/>: what a guest's flush requests reached the medium as.</summary>
    public ulong Flushes { get; private set; }

    /// <summary>4 KiB chunks holding data because something wrote them.</summary>
    public int ChunksTouched => _chunks.Count;

    public bool TryRead(ulong sector, Span<byte> destination)
    {
        if (!InRange(sector, destination.Length))
        {
            return false;
        }
        var offset = sector * SectorSize;
        while (!destination.IsEmpty)
        {
            var within = (int)(offset % ChunkSize);
            var count = Math.Min(destination.Length, ChunkSize - within);
            if (_chunks.TryGetValue(offset / ChunkSize, out var chunk))
            {
                chunk.AsSpan(within, count).CopyTo(destination);
            }
            else
            {
                destination[..count].Clear();
            }
            destination = destination[count..];
            offset += (ulong)count;
        }
        return true;
    }

    public bool TryWrite(ulong sector, ReadOnlySpan<byte> source)
    {
        if (!InRange(sector, source.Length))
        {
            return false;
        }
        var offset = sector * SectorSize;
        while (!source.IsEmpty)
        {
            var within = (int)(offset % ChunkSize);
            var count = Math.Min(source.Length, ChunkSize - within);
            if (!_chunks.TryGetValue(offset / ChunkSize, out var chunk))
            {
                chunk = new byte[ChunkSize];
                _chunks[offset / ChunkSize] = chunk;
            }
            source[..count].CopyTo(chunk.AsSpan(within));
            source = source[count..];
            offset += (ulong)count;
        }
        return true;
    }

    public void Flush() => Flushes++;

    /// <summary>Whether <paramref name="length"/> bytes of whole sectors from <paramref name="sector"/> lie on the disk; a length that is not whole sectors is the caller's bug.</summary>
    private bool InRange(ulong sector, int length)
    {
        if (length % SectorSize != 0)
        {
            throw new ArgumentException($"{length} bytes is not a whole number of {SectorSize}-byte sectors", nameof(length));
        }
        var sectors = (ulong)(length / SectorSize);
        return sector <= SectorCount && sectors <= SectorCount - sector;
    }
}
