using System.Text;
using VirtApi.Machine.Devices.Block;
using VirtApi.Machine.Devices.Virtio;
using static VirtApi.Machine.Tests.Devices.VirtioTestDriver;

namespace VirtApi.Machine.Tests.Devices;

/// <summary>virtio-blk requests (virtio 1.2 §5.2.6) through a real <see cref="MemoryBlockStore"/>.</summary>
public sealed class VirtioBlockTests
{
    private const ulong Features = VirtioMmioTransport.FeatureVersion1 | VirtioBlock.FeatureFlush;

    private static (VirtioTestDriver Driver, MemoryBlockStore Store) Disk(ulong sectors = 64, string serial = "")
    {
        var store = new MemoryBlockStore(sectors);
        var driver = new VirtioTestDriver(new VirtioBlock(store, serial));
        driver.Initialize(Features);
        return (driver, store);
    }

    private static byte[] Pattern(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => (byte)((i * 31) + seed))];

    [Fact]
    public void Write_ThenRead_RoundTripsThroughTheStore()
    {
        var (disk, store) = Disk();
        var data = Pattern(1024, 5);
        var writeStatus = BlockRequest.Offer(disk, VirtioBlock.RequestOut, 9, new TestBuffer(disk.Buffer(1024, data), 1024, false));
        disk.Kick(0);

        Assert.Equal(VirtioBlock.StatusOk, BlockRequest.Status(disk, writeStatus));
        Assert.Equal(1u, disk.UsedElement(0, 0).Length); // only the status byte is written
        var onDisk = new byte[1024];
        Assert.True(store.TryRead(9, onDisk));
        Assert.Equal(data, onDisk);

        var target = disk.Buffer(1024);
        var readStatus = BlockRequest.Offer(disk, VirtioBlock.RequestIn, 9, new TestBuffer(target, 1024, true));
        disk.Kick(0);

        Assert.Equal(VirtioBlock.StatusOk, BlockRequest.Status(disk, readStatus));
        Assert.Equal(data, disk.ReadRam(target, 1024));
        Assert.Equal(1025u, disk.UsedElement(0, 1).Length);
        Assert.Equal(2048UL, disk.Transport.Counters.BytesTransferred);
    }

    [Fact]
    public void Read_ScattersSectorsOverUnevenBuffers()
    {
        var (disk, store) = Disk();
        var data = Pattern(2048, 9);
        Assert.True(store.TryWrite(20, data));
        var a = disk.Buffer(100);
        var b = disk.Buffer(1900);
        var c = disk.Buffer(48);
        var status = BlockRequest.Offer(disk, VirtioBlock.RequestIn, 20, new TestBuffer(a, 100, true), new TestBuffer(b, 1900, true), new TestBuffer(c, 48, true));
        disk.Kick(0);

        Assert.Equal(VirtioBlock.StatusOk, BlockRequest.Status(disk, status));
        Assert.Equal(data, disk.ReadRam(a, 100).Concat(disk.ReadRam(b, 1900)).Concat(disk.ReadRam(c, 48)).ToArray());
    }

    [Fact]
    public void Write_GathersSectorsFromUnevenBuffers_LargerThanOneTransferChunk()
    {
        var (disk, store) = Disk();
        var data = Pattern(8192 + 512, 3);
        var first = disk.Buffer(5000, data.AsSpan(0, 5000));
        var second = disk.Buffer(data.Length - 5000, data.AsSpan(5000));
        var status = BlockRequest.Offer(disk, VirtioBlock.RequestOut, 1, new TestBuffer(first, 5000, false), new TestBuffer(second, (uint)data.Length - 5000, false));
        disk.Kick(0);

        Assert.Equal(VirtioBlock.StatusOk, BlockRequest.Status(disk, status));
        var onDisk = new byte[data.Length];
        Assert.True(store.TryRead(1, onDisk));
        Assert.Equal(data, onDisk);
    }

    [Fact]
    public void Flush_ReachesTheStore()
    {
        var (disk, store) = Disk();
        var status = BlockRequest.Offer(disk, VirtioBlock.RequestFlush, 0);
        disk.Kick(0);
        Assert.Equal(VirtioBlock.StatusOk, BlockRequest.Status(disk, status));
        Assert.Equal(1UL, store.Flushes);
    }

    [Fact]
    public void GetId_AnswersTheSerial_NulPadded()
    {
        var (disk, _) = Disk(serial: "virtapi-disk");
        var id = disk.Buffer(20, Enumerable.Repeat((byte)'#', 20).ToArray());
        var status = BlockRequest.Offer(disk, VirtioBlock.RequestGetId, 0, new TestBuffer(id, 20, true));
        disk.Kick(0);
        Assert.Equal(VirtioBlock.StatusOk, BlockRequest.Status(disk, status));
        Assert.Equal(Encoding.ASCII.GetBytes("virtapi-disk\0\0\0\0\0\0\0\0"), disk.ReadRam(id, 20));
    }

    [Fact]
    public void GetId_OfATwentyCharacterSerial_HasNoTerminator()
    {
        var (disk, _) = Disk(serial: "ABCDEFGHIJKLMNOPQRST");
        var id = disk.Buffer(24, Enumerable.Repeat((byte)'#', 24).ToArray());
        BlockRequest.Offer(disk, VirtioBlock.RequestGetId, 0, new TestBuffer(id, 24, true));
        disk.Kick(0);
        Assert.Equal("ABCDEFGHIJKLMNOPQRST####"u8.ToArray(), disk.ReadRam(id, 24));
    }

    [Fact]
    public void Serial_LongerThan20OrNotAscii_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new VirtioBlock(new MemoryBlockStore(1), new string('x', 21)));
        Assert.Throws<ArgumentException>(() => new VirtioBlock(new MemoryBlockStore(1), "disque-é"));
    }

    [Fact]
    public void SeveralRequests_InOneNotification_AreOneBatch_WithOneInterrupt()
    {
        var (disk, store) = Disk();
        var statuses = new List<ulong>
        {
            BlockRequest.Offer(disk, VirtioBlock.RequestOut, 0, new TestBuffer(disk.Buffer(512, Pattern(512, 1)), 512, false)),
            BlockRequest.Offer(disk, VirtioBlock.RequestOut, 1, new TestBuffer(disk.Buffer(512, Pattern(512, 2)), 512, false)),
            BlockRequest.Offer(disk, VirtioBlock.RequestFlush, 0),
            BlockRequest.Offer(disk, VirtioBlock.RequestIn, 0, new TestBuffer(disk.Buffer(1024), 1024, true)),
        };
        var before = disk.Transport.Counters.RegisterAccesses;
        disk.Kick(0);

        Assert.All(statuses, s => Assert.Equal(VirtioBlock.StatusOk, BlockRequest.Status(disk, s)));
        var counters = disk.Transport.Counters;
        Assert.Equal(1UL, counters.Notifications);
        Assert.Equal(1UL, counters.Batches);
        Assert.Equal(4UL, counters.Requests);
        Assert.Equal(1UL, counters.InterruptsRaised);
        Assert.Equal(512UL + 512 + 1024, counters.BytesTransferred);
        Assert.Equal(before + 1, counters.RegisterAccesses); // the one QueueNotify write
        Assert.Equal(1, disk.Irq.Rises);
        Assert.Equal(4, disk.UsedIdx(0));
        Assert.Equal(1UL, store.Flushes);
    }

    [Fact]
    public void Capacity_IsInTheConfigurationSpace_At8_16And32BitWidths()
    {
        var (disk, _) = Disk(sectors: 0x1_2345_6789);
        Assert.True(disk.Transport.Read(Config, 4, out var low));
        Assert.True(disk.Transport.Read(Config + 4, 4, out var high));
        Assert.Equal(0x1_2345_6789UL, low | (high << 32));
        Assert.True(disk.Transport.Read(Config + 2, 2, out var half));
        Assert.Equal(0x2345UL, half);
        Assert.True(disk.Transport.Read(Config + 4, 1, out var oneByte));
        Assert.Equal(1UL, oneByte);
    }

    [Fact]
    public void UnknownType_IsAnsweredUnsupported()
    {
        var (disk, _) = Disk();
        var status = BlockRequest.Offer(disk, 99, 0);
        disk.Kick(0);
        Assert.Equal(VirtioBlock.StatusUnsupported, BlockRequest.Status(disk, status));
        Assert.Equal(0u, disk.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
    }

    [Theory]
    [InlineData(63ul, 1024)] // runs one sector past the end of 64
    [InlineData(64ul, 512)]
    [InlineData(ulong.MaxValue, 512)] // sector + count overflows
    public void ReadPastTheEnd_IsAnsweredIoError_AndWritesNoData(ulong sector, int length)
    {
        var (disk, _) = Disk();
        var target = disk.Buffer(length, Enumerable.Repeat((byte)0xaa, length).ToArray());
        var status = BlockRequest.Offer(disk, VirtioBlock.RequestIn, sector, new TestBuffer(target, (uint)length, true));
        disk.Kick(0);
        Assert.Equal(VirtioBlock.StatusIoError, BlockRequest.Status(disk, status));
        Assert.All(disk.ReadRam(target, length), b => Assert.Equal(0xaa, b));
        Assert.Equal(0UL, disk.Transport.Counters.BytesTransferred);
    }

    [Fact]
    public void WritePastTheEnd_IsAnsweredIoError_AndChangesNoSector()
    {
        var (disk, store) = Disk(sectors: 4);
        var status = BlockRequest.Offer(disk, VirtioBlock.RequestOut, 3, new TestBuffer(disk.Buffer(1024, Pattern(1024, 1)), 1024, false));
        disk.Kick(0);
        Assert.Equal(VirtioBlock.StatusIoError, BlockRequest.Status(disk, status));
        Assert.Equal(0, store.ChunksTouched);
    }

    public static TheoryData<string, uint, int, int> WrongFraming() => new()
    {
        { "IN with data that is not whole sectors", VirtioBlock.RequestIn, 0, 100 },
        { "IN with readable data after the header", VirtioBlock.RequestIn, 512, 512 },
        { "OUT with data that is not whole sectors", VirtioBlock.RequestOut, 513, 0 },
        { "OUT with writable data before the status", VirtioBlock.RequestOut, 512, 512 },
        { "FLUSH with data", VirtioBlock.RequestFlush, 0, 512 },
        { "GET_ID with readable data", VirtioBlock.RequestGetId, 16, 20 },
    };

    [Theory]
    [MemberData(nameof(WrongFraming))]
    public void RequestsWithLengthsThatDoNotMatchTheFormat_AreAnsweredIoError(string why, uint type, int readable, int writable)
    {
        var (disk, store) = Disk();
        List<TestBuffer> data = [];
        if (readable > 0)
        {
            data.Add(new TestBuffer(disk.Buffer(readable), (uint)readable, false));
        }
        if (writable > 0)
        {
            data.Add(new TestBuffer(disk.Buffer(writable), (uint)writable, true));
        }
        var status = BlockRequest.Offer(disk, type, 0, [.. data]);
        disk.Kick(0);
        Assert.True(BlockRequest.Status(disk, status) == VirtioBlock.StatusIoError, why);
        Assert.Equal(0, store.ChunksTouched);
        Assert.Equal(0UL, store.Flushes);
        Assert.Equal(0u, disk.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
    }

    [Fact]
    public void HeaderShorterThan16Bytes_IsAnsweredIoError()
    {
        var (disk, _) = Disk();
        var status = disk.Buffer(1, [0xff]);
        disk.Offer(0, new TestBuffer(disk.Buffer(8, BlockRequest.Header(VirtioBlock.RequestFlush, 0).AsSpan(0, 8)), 8, false), new TestBuffer(status, 1, true));
        disk.Kick(0);
        Assert.Equal(VirtioBlock.StatusIoError, BlockRequest.Status(disk, status));
    }

    [Fact]
    public void DataBufferOutsideGuestRam_IsAnsweredIoError()
    {
        var (disk, store) = Disk();
        var outOfRam = BlockRequest.Offer(disk, VirtioBlock.RequestOut, 0, new TestBuffer(0x1000, 512, false));
        var intoNowhere = BlockRequest.Offer(disk, VirtioBlock.RequestIn, 0, new TestBuffer(RamBase + RamSize, 512, true));
        disk.Kick(0);
        Assert.Equal(VirtioBlock.StatusIoError, BlockRequest.Status(disk, outOfRam));
        Assert.Equal(VirtioBlock.StatusIoError, BlockRequest.Status(disk, intoNowhere));
        Assert.Equal(0, store.ChunksTouched);
        Assert.Equal(2, disk.UsedIdx(0));
    }

    [Fact]
    public void ChainWithoutAStatusByte_CannotBeAnswered_AndTheDeviceNeedsAReset()
    {
        var (disk, _) = Disk();
        disk.Offer(0, new TestBuffer(disk.Buffer(16, BlockRequest.Header(VirtioBlock.RequestFlush, 0)), 16, false));
        disk.Kick(0);
        Assert.NotEqual(0u, disk.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Equal(0, disk.UsedIdx(0));
    }

    [Fact]
    public void StatusByteOutsideGuestRam_CannotBeAnswered_AndTheDeviceNeedsAReset()
    {
        var (disk, _) = Disk();
        disk.Offer(0, new TestBuffer(disk.Buffer(16, BlockRequest.Header(VirtioBlock.RequestFlush, 0)), 16, false), new TestBuffer(0x10, 1, true));
        disk.Kick(0);
        Assert.NotEqual(0u, disk.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
    }
}
