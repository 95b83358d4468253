using Microsoft.Win32.SafeHandles;
using VirtApi.Machine.Devices.Block;

namespace VirtApi.Hypervisor.Devices;

/// <summary>
/// A disk backed by an image file (DESIGN.md "Persistence"): created with its stated size on first use
/// (sparse where the file system allows), written through to the file as the guest writes, and synced
/// to the medium on the guest's FLUSH and when the VM stops, so its data survives a server restart.
/// </summary>
public sealed class FileBlockStore : IBlockStore, IDisposable
{
    private const int SectorSize = IBlockStore.SectorSize;
    private readonly SafeFileHandle _file;

    private FileBlockStore(SafeFileHandle file, ulong sectors)
    {
        _file = file;
        SectorCount = sectors;
    }

    /// <summary>Opens the disk at <paramref name="backing"/>, creating it first when it does not exist.</summary>
    public static FileBlockStore Open(DiskBacking backing)
    {
        if (backing.Bytes <= 0 || backing.Bytes % SectorSize != 0)
        {
            throw new ArgumentException($"a disk's size must be a positive multiple of {SectorSize} bytes, was {backing.Bytes}", nameof(backing));
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(backing.Path))!);
        // Shared for writing: during a migration the target opens the disk while the source, paused,
        // still holds it (shared storage); writes go through, so neither caches what the other wrote.
        var file = File.OpenHandle(backing.Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        try
        {
            if (RandomAccess.GetLength(file) < backing.Bytes)
            {
                RandomAccess.SetLength(file, backing.Bytes);
            }
            return new FileBlockStore(file, (ulong)backing.Bytes / SectorSize);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public ulong SectorCount { get; }

    public bool TryRead(ulong sector, Span<byte> destination)
    {
        if (!InRange(sector, destination.Length))
        {
            return false;
        }
        var read = 0;
        while (read < destination.Length)
        {
            var n = RandomAccess.Read(_file, destination[read..], (long)(sector * SectorSize) + read);
            if (n == 0)
            {
                destination[read..].Clear();
                break;
            }
            read += n;
        }
        return true;
    }

    public bool TryWrite(ulong sector, ReadOnlySpan<byte> source)
    {
        if (!InRange(sector, source.Length))
        {
            return false;
        }
        RandomAccess.Write(_file, source, (long)(sector * SectorSize));
        return true;
    }

    public void Flush() => RandomAccess.FlushToDisk(_file);

    public void Dispose()
    {
        if (!_file.IsClosed)
        {
            Flush();
            _file.Dispose();
        }
    }

    private bool InRange(ulong sector, int length) =>
        length % SectorSize == 0 && sector <= SectorCount && (ulong)(length / SectorSize) <= SectorCount - sector;
}
