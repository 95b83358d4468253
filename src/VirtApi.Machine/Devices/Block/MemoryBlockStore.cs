namespace VirtApi.Machine.Devices;

/// <summary>
/// A sparse in-memory <see cref="IBlockStore"/>: a sector costs host memory only while it holds
/// something other than zeros, so a large disk that a guest touches in a few places stays small.
/// Nothing is volatile in memory, so <see cref="Flush"/> has nothing to do beyond being counted.
/// </summary>
public sealed class MemoryBlockStore : IBlockStore
{
    private readonly Dictionary<ulong, byte[]> _sectors = [];

    public MemoryBlockStore(ulong sectorCount)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sectorCount);
        SectorCount = sectorCount;
    }

    public ulong SectorCount { get; }

    /// <summary>Sectors holding data other than zeros (the host memory in use, in sectors).</summary>
    public int AllocatedSectors => _sectors.Count;

    /// <summary>Times <see cref="Flush"/> was called.</summary>
    public ulong Flushes { get; private set; }

    public void Read(ulong sector, Span<byte> destination)
    {
        var count = Check(sector, destination.Length);
        for (var i = 0; i < count; i++)
        {
            var target = destination.Slice(i * IBlockStore.SectorSize, IBlockStore.SectorSize);
            if (_sectors.TryGetValue(sector + (ulong)i, out var data))
            {
                data.CopyTo(target);
            }
            else
            {
                target.Clear();
            }
        }
    }

    public void Write(ulong sector, ReadOnlySpan<byte> source)
    {
        var count = Check(sector, source.Length);
        for (var i = 0; i < count; i++)
        {
            var data = source.Slice(i * IBlockStore.SectorSize, IBlockStore.SectorSize);
            var number = sector + (ulong)i;
            if (!data.ContainsAnyExcept((byte)0))
            {
                _sectors.Remove(number); // zeros are what an absent sector reads as
            }
            else if (_sectors.TryGetValue(number, out var existing))
            {
                data.CopyTo(existing);
            }
            else
            {
                _sectors.Add(number, data.ToArray());
            }
        }
    }

    public void Flush() => Flushes++;

    /// <summary>The number of whole sectors in <paramref name="length"/> bytes at <paramref name="sector"/>; throws unless all exist.</summary>
    private int Check(ulong sector, int length)
    {
        if (length % IBlockStore.SectorSize != 0)
        {
            throw new ArgumentException($"{length} bytes is not a whole number of {IBlockStore.SectorSize}-byte sectors", nameof(length));
        }
        var count = length / IBlockStore.SectorSize;
        if (sector >= SectorCount || (ulong)count > SectorCount - sector)
        {
            throw new ArgumentOutOfRangeException(nameof(sector), sector, $"{count} sectors from {sector} do not fit in {SectorCount}");
        }
        return count;
    }
}
