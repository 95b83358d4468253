using System.Buffers.Binary;
using VirtApi.Machine.Devices.Block;
using VirtApi.Machine.Devices.Virtio;
using VirtApi.Machine.Memory;
using static VirtApi.Machine.Tests.Devices.VirtioTestDriver;

namespace VirtApi.Machine.Tests.Devices;

/// <summary>
/// A hostile driver, seeded so that a failure replays: random register accesses and random ring and
/// descriptor contents never make a device throw, never let it touch memory outside guest RAM, and
/// never leave its interrupt line disagreeing with InterruptStatus.
/// </summary>
public sealed class VirtioFuzzTests
{
    /// <summary>Lets the device at guest RAM and records any access that succeeded outside it.</summary>
    private sealed class GuardedMemory(IGuestMemory inner) : IGuestMemory
    {
        public int AccessesOutsideRam { get; private set; }

        public int Writes { get; private set; }

        public bool TryRead(ulong address, Span<byte> destination) => Check(inner.TryRead(address, destination), address, destination.Length);

        public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
        {
            var ok = Check(inner.TryWrite(address, source), address, source.Length);
            Writes += ok ? 1 : 0;
            return ok;
        }

        private bool Check(bool ok, ulong address, int length)
        {
            if (ok && (address < RamBase || address - RamBase + (ulong)length > RamSize))
            {
                AccessesOutsideRam++;
            }
            return ok;
        }
    }

    private static readonly ulong[] Registers =
    [
        MagicValue, DeviceFeatures, DeviceFeaturesSel, DriverFeatures, DriverFeaturesSel, QueueSel, QueueNumMax, QueueNum,
        QueueReady, QueueNotify, InterruptStatus, InterruptAck, Status, QueueDescLow, QueueDescHigh, QueueDriverLow,
        QueueDriverHigh, QueueDeviceLow, QueueDeviceHigh, ConfigGeneration, Config, Config + 4,
    ];

    private static (VirtioTestDriver Driver, GuardedMemory Memory) Create(IVirtioDevice device)
    {
        GuardedMemory? guard = null;
        var driver = new VirtioTestDriver(device, wrapMemory: ram => guard = new GuardedMemory(ram));
        return (driver, guard!);
    }

    private static uint Value(Random random) => random.Next(8) switch
    {
        0 => 0,
        1 => 1,
        2 => (uint)random.Next(16), // status bits, small queue indices
        3 => 1u << random.Next(10), // queue sizes
        4 => (uint)(RamBase + ((ulong)random.Next(0x4000) * 16)), // an address in RAM
        5 => 0xf, // the whole status progression at once
        _ => (uint)random.NextInt64(uint.MaxValue + 1L),
    };

    private static void AssertConsistent(VirtioTestDriver driver, GuardedMemory memory)
    {
        Assert.Equal(0, memory.AccessesOutsideRam);
        Assert.Equal(driver.Transport.InterruptStatus != 0, driver.Irq.Level);
        Assert.Equal(0u, driver.Transport.Status & ~(VirtioDeviceStatus.DriverBits | VirtioDeviceStatus.DeviceNeedsReset));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomRegisterAccesses_OverRandomRam_NeverThrow(int seed)
    {
        var random = new Random(seed);
        var console = new VirtioConsole();
        foreach (var (driver, memory) in new[] { Create(new VirtioBlock(new MemoryBlockStore(64))), Create(console) })
        {
            var garbage = new byte[0x1_0000];
            random.NextBytes(garbage);
            driver.Ram.WriteBytes(RamBase, garbage); // rings, descriptors and buffers are whatever lands here
            for (var i = 0; i < 20_000; i++)
            {
                if (random.Next(500) == 0)
                {
                    // Now and then a proper setup, so that the random accesses also meet live queues.
                    driver.Initialize(VirtioMmioTransport.FeatureVersion1, (ushort)(1 << random.Next(9)));
                    driver.Ram.WriteBytes(DriverArea(0) + 2, [(byte)random.Next(256), 0]); // a few chains "made available"
                }
                var offset = random.Next(4) == 0 ? (ulong)random.Next(0x1000) : Registers[random.Next(Registers.Length)];
                var size = random.Next(5) == 0 ? 1 << random.Next(4) : 4;
                if (random.Next(3) == 0)
                {
                    driver.Transport.Read(offset, size, out _);
                }
                else
                {
                    driver.Transport.Write(offset, size, Value(random));
                }
                if (driver.Transport.Device == console && random.Next(50) == 0)
                {
                    console.Receive([(byte)random.Next(256)]);
                }
                AssertConsistent(driver, memory);
            }
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void RandomDescriptorContents_NeverThrow_NorEscapeGuestRam(int seed)
    {
        var random = new Random(seed);
        var store = new MemoryBlockStore(64);
        var sink = new ByteSink();
        var console = new VirtioConsole { Sink = sink };
        foreach (var (driver, memory) in new[] { Create(new VirtioBlock(store)), Create(console) })
        {
            const ushort Size = 16;
            var queues = driver.Transport.Queues.Count;
            driver.Initialize(VirtioMmioTransport.FeatureVersion1, Size);
            // A heap of plausible block headers, so that random chains often carry real requests.
            var heap = RamBase + 0x8_0000;
            for (var i = 0; i < 256; i++)
            {
                uint[] types = [VirtioBlock.RequestIn, VirtioBlock.RequestOut, VirtioBlock.RequestFlush, VirtioBlock.RequestGetId, (uint)random.Next()];
                driver.Ram.WriteBytes(heap + ((ulong)i * 16), BlockRequest.Header(types[random.Next(types.Length)], (ulong)random.Next(70)));
            }
            var used = new ushort[queues];
            var avail = new ushort[queues];
            var rounds = 0;
            for (var round = 0; round < 3000; round++)
            {
                var q = random.Next(queues);
                var offered = random.Next(2) == 0 ? RandomDescriptors(random, driver, q, heap, Size) : PlausibleChains(random, driver, q, heap, Size);
                avail[q] = (ushort)(avail[q] + offered);
                driver.Ram.Write(DriverArea(q), 2, (ulong)random.Next(2));
                driver.Ram.Write(DriverArea(q) + 2, 2, avail[q]);
                driver.Transport.Write(QueueNotify, 4, random.Next(10) == 0 ? (ulong)random.Next(8) : (ulong)q);
                if (random.Next(4) == 0)
                {
                    console.Receive([.. Enumerable.Range(0, random.Next(40)).Select(_ => (byte)random.Next(256))]);
                }

                AssertConsistent(driver, memory);
                for (var k = 0; k < queues; k++)
                {
                    // At most a queue's worth per batch, and a round holds at most two (a notification, input).
                    var now = driver.UsedIdx(k);
                    Assert.InRange((ushort)(now - used[k]), 0, 2 * Size);
                    used[k] = now;
                }
                if ((driver.Transport.Status & VirtioDeviceStatus.DeviceNeedsReset) != 0)
                {
                    driver.Initialize(VirtioMmioTransport.FeatureVersion1, Size); // the driver's only way back
                    Array.Clear(used);
                    Array.Clear(avail);
                    rounds++;
                }
            }
            Assert.NotEqual(0, rounds); // the fuzzing did reach the error paths
            Assert.NotEqual(0UL, driver.Transport.Counters.Requests); // and the working ones
            Assert.NotEqual(0, memory.Writes);
        }
    }

    /// <summary>Descriptors and available ring entries of pure noise; returns how far avail.idx moves (up to a little more than a queue).</summary>
    private static int RandomDescriptors(Random random, VirtioTestDriver driver, int q, ulong heap, ushort size)
    {
        var descriptors = new byte[16 * size];
        for (var d = 0; d < size; d++)
        {
            var entry = descriptors.AsSpan(16 * d);
            BinaryPrimitives.WriteUInt64LittleEndian(entry, random.Next(6) switch
            {
                0 => (ulong)random.NextInt64(),
                1 => RamBase + RamSize - (ulong)random.Next(600), // straddles the end of RAM
                2 => (ulong)random.Next(0x1000),
                _ => heap + ((ulong)random.Next(0x8_0000) & ~15UL),
            });
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], random.Next(4) switch
            {
                0 => 16,
                1 => 512,
                2 => 1,
                _ => (uint)random.Next(4096),
            });
            BinaryPrimitives.WriteUInt16LittleEndian(entry[12..], (ushort)random.Next(8));
            BinaryPrimitives.WriteUInt16LittleEndian(entry[14..], (ushort)random.Next(size + 4));
        }
        driver.Ram.WriteBytes(DescriptorArea(q), descriptors);
        for (var slot = 0; slot < size; slot++)
        {
            driver.Ram.Write(DriverArea(q) + 4 + (2UL * (ulong)slot), 2, (ulong)random.Next(size + 2));
        }
        return random.Next(size + 3);
    }

    /// <summary>
    /// Up to four chains shaped like requests (header, data, status byte) with random sizes, directions
    /// and places, now and then one field wrong; returns how many were offered.
    /// </summary>
    private static int PlausibleChains(Random random, VirtioTestDriver driver, int q, ulong heap, ushort size)
    {
        var chains = random.Next(1, 5);
        var avail = (ushort)driver.Ram.Read(DriverArea(q) + 2, 2);
        var next = 0;
        for (var c = 0; c < chains; c++)
        {
            var parts = new List<(ulong Address, uint Length, bool Write)> { (heap + ((ulong)random.Next(256) * 16), 16, false) };
            var data = random.Next(4);
            var writable = random.Next(2) == 0;
            for (var i = 0; i < data; i++)
            {
                var address = random.Next(12) == 0 ? RamBase + RamSize - 256 : RamBase + 0x4_0000 + ((ulong)random.Next(0x3_0000) & ~15UL);
                uint[] lengths = [512, 1024, 512, 100, 0, 4096];
                parts.Add((address, lengths[random.Next(lengths.Length)], writable));
            }
            parts.Add((RamBase + 0x7_f000 + (ulong)random.Next(0x1000), 1, true));
            var head = next;
            for (var i = 0; i < parts.Count && next < size; i++, next++)
            {
                var flags = (ushort)((i + 1 < parts.Count ? SplitVirtqueue.DescriptorNext : 0) | (parts[i].Write ? SplitVirtqueue.DescriptorWrite : 0));
                if (random.Next(20) == 0)
                {
                    flags ^= (ushort)(1 << random.Next(3));
                }
                driver.WriteDescriptor(q, (ushort)next, parts[i].Address, parts[i].Length, flags, (ushort)(next + 1));
            }
            driver.Ram.Write(DriverArea(q) + 4 + (2UL * (ulong)((avail + c) % size)), 2, (ulong)head);
        }
        return chains;
    }
}
