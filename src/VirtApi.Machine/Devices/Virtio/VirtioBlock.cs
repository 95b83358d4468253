using System.Buffers.Binary;
using System.Text;
using VirtApi.Machine.Devices.Block;

namespace VirtApi.Machine.Devices.Virtio;

/// <summary>
/// A virtio block device (virtio 1.2 §5.2), device ID 2, one request queue, over an <see cref="IBlockStore"/>.
/// Configuration space is <c>capacity</c> alone (§5.2.4: the one field always present). Requests are
/// IN, OUT, FLUSH and GET_ID; each is a 16-byte header {type, reserved, sector} the device reads, data,
/// and a status byte the device writes last (§5.2.6). VIRTIO_BLK_F_FLUSH is offered (§5.2.5.2: devices
/// SHOULD); writes reach the store at once, and FLUSH makes them durable there.
/// <para>
/// A request whose framing is wrong (header short, data not whole sectors, data in the wrong direction,
/// sectors past the end, a buffer outside guest RAM) is answered VIRTIO_BLK_S_IOERR, an unknown type
/// VIRTIO_BLK_S_UNSUPP. Only a chain with no writable byte for the status, or a status byte outside
/// guest RAM, cannot be answered at all: the device then needs a reset.
/// </para>
/// </summary>
public sealed class VirtioBlock : IVirtioDevice
{
    /// <summary>Device ID of a block device (§5.2.1).</summary>
    public const uint Id = 2;

    /// <summary>VIRTIO_BLK_F_FLUSH (§5.2.3): cache flush command support.</summary>
    public const ulong FeatureFlush = 1UL << 9;

    /// <summary>VIRTIO_BLK_T_IN: read sectors into the data buffers.</summary>
    public const uint RequestIn = 0;

    /// <summary>VIRTIO_BLK_T_OUT: write sectors from the data buffers.</summary>
    public const uint RequestOut = 1;

    /// <summary>VIRTIO_BLK_T_FLUSH: make written sectors durable.</summary>
    public const uint RequestFlush = 4;

    /// <summary>VIRTIO_BLK_T_GET_ID: the device ID string.</summary>
    public const uint RequestGetId = 8;

    /// <summary>VIRTIO_BLK_S_OK.</summary>
    public const byte StatusOk = 0;

    /// <summary>VIRTIO_BLK_S_IOERR: device or driver error.</summary>
    public const byte StatusIoError = 1;

    /// <summary>VIRTIO_BLK_S_UNSUPP: a request type the device does not support.</summary>
    public const byte StatusUnsupported = 2;

    /// <summary>VIRTIO_BLK_ID_BYTES: the ID string is NUL-padded to 20 bytes, with no terminator at 20 (§5.2.6).</summary>
    public const int IdBytes = 20;

    /// <summary>Sectors are 512 bytes in the protocol, whatever the medium (§5.2.6).</summary>
    public const int SectorSize = 512;

    private const int HeaderSize = 16;

    private readonly IBlockStore _store;
    private readonly byte[] _id = new byte[IdBytes];

    // Sectors go between the store and guest memory through this, a few at a time, so a request of
    // any size allocates nothing.
    private readonly byte[] _transfer = new byte[8 * SectorSize];
    private IVirtioTransport? _transport;

    /// <summary>A disk over <paramref name="store"/> whose GET_ID answers <paramref name="serial"/> (ASCII, up to 20 bytes; QEMU's <c>serial=</c>).</summary>
    public VirtioBlock(IBlockStore store, string serial = "")
    {
        if (serial.Length > IdBytes || !Ascii.IsValid(serial))
        {
            throw new ArgumentException($"the serial is up to {IdBytes} ASCII characters", nameof(serial));
        }
        _store = store;
        Encoding.ASCII.GetBytes(serial, _id);
    }

    public uint DeviceId => Id;

    public ulong DeviceFeatures => FeatureFlush;

    public int QueueCount => 1;

    /// <summary>le64 capacity in 512-byte sectors.</summary>
    public int ConfigSize => 8;

    /// <summary>The medium, which holds the disk's contents (they are not the device's saved state).</summary>
    public IBlockStore Store => _store;

    public void ReadConfig(int offset, Span<byte> destination)
    {
        Span<byte> config = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(config, _store.SectorCount);
        config.Slice(offset, destination.Length).CopyTo(destination);
    }

    /// <summary>capacity is read-only.</summary>
    public bool WriteConfig(int offset, ReadOnlySpan<byte> source) => false;

    public void Attach(IVirtioTransport transport) => _transport = transport;

    public bool CanConsume(int queueIndex) => true;

    /// <summary>
    /// Executes one request and writes its status byte. <paramref name="written"/> is the whole writable
    /// part: the status byte is its last byte and used len counts from the first (§2.7.8), so only the
    /// whole length covers it (QEMU reports the same).
    /// </summary>
    public bool Process(int queueIndex, DescriptorChain chain, out uint written)
    {
        written = chain.WritableLength;
        if (written == 0)
        {
            return false;
        }
        var statusOffset = written - 1;
        ReadOnlySpan<byte> status = [Execute(chain, statusOffset)];
        return chain.TryWrite(statusOffset, status);
    }

    private byte Execute(DescriptorChain chain, uint dataToDriver)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        if (!chain.TryRead(0, header))
        {
            return StatusIoError;
        }
        var type = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var sector = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        var dataFromDriver = chain.ReadableLength - HeaderSize;
        switch (type)
        {
            case RequestIn:
                return dataFromDriver == 0 && dataToDriver % SectorSize == 0 ? ReadSectors(chain, sector, dataToDriver) : StatusIoError;
            case RequestOut:
                return dataToDriver == 0 && dataFromDriver % SectorSize == 0 ? WriteSectors(chain, sector, dataFromDriver) : StatusIoError;
            case RequestFlush:
                if (dataFromDriver != 0 || dataToDriver != 0)
                {
                    return StatusIoError;
                }
                _store.Flush();
                return StatusOk;
            case RequestGetId:
                if (dataFromDriver != 0)
                {
                    return StatusIoError;
                }
                var length = (int)Math.Min(dataToDriver, IdBytes);
                if (!chain.TryWrite(0, _id.AsSpan(0, length)))
                {
                    return StatusIoError;
                }
                CountBytes(length);
                return StatusOk;
            default:
                return StatusUnsupported;
        }
    }

    /// <summary>IN: <paramref name="length"/> bytes of sectors from <paramref name="sector"/> into the writable buffers.</summary>
    private byte ReadSectors(DescriptorChain chain, ulong sector, uint length)
    {
        if (!OnDisk(sector, length))
        {
            return StatusIoError;
        }
        for (uint done = 0; done < length;)
        {
            var chunk = _transfer.AsSpan(0, (int)Math.Min((uint)_transfer.Length, length - done));
            if (!_store.TryRead(sector + (done / SectorSize), chunk) || !chain.TryWrite(done, chunk))
            {
                return StatusIoError;
            }
            done += (uint)chunk.Length;
            CountBytes(chunk.Length);
        }
        return StatusOk;
    }

    /// <summary>OUT: <paramref name="length"/> bytes after the header onto sectors from <paramref name="sector"/>.</summary>
    private byte WriteSectors(DescriptorChain chain, ulong sector, uint length)
    {
        if (!OnDisk(sector, length))
        {
            return StatusIoError;
        }
        for (uint done = 0; done < length;)
        {
            var chunk = _transfer.AsSpan(0, (int)Math.Min((uint)_transfer.Length, length - done));
            if (!chain.TryRead(HeaderSize + done, chunk) || !_store.TryWrite(sector + (done / SectorSize), chunk))
            {
                return StatusIoError;
            }
            done += (uint)chunk.Length;
            CountBytes(chunk.Length);
        }
        return StatusOk;
    }

    // Checked before any byte moves, so a request that runs off the end changes nothing.
    private bool OnDisk(ulong sector, uint length) => sector <= _store.SectorCount && length / SectorSize <= _store.SectorCount - sector;

    private void CountBytes(int count) => _transport?.Counters.BytesTransferred += (ulong)count;
}
