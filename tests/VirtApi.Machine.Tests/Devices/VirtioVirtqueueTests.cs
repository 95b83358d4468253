using System.Text;
using VirtApi.Machine.Devices.Block;
using VirtApi.Machine.Devices.Virtio;
using static VirtApi.Machine.Tests.Devices.VirtioTestDriver;

namespace VirtApi.Machine.Tests.Devices;

/// <summary>The split virtqueue (virtio 1.2 §2.7) as a driver sees it work, and as a hostile driver cannot break it.</summary>
public sealed class VirtioVirtqueueTests
{
    private static (VirtioTestDriver Driver, ByteSink Output) Console(ushort size = 16)
    {
        var sink = new ByteSink();
        var driver = new VirtioTestDriver(new VirtioConsole { Sink = sink });
        driver.Initialize(VirtioMmioTransport.FeatureVersion1, size);
        return (driver, sink);
    }

    private static void AssertNeedsReset(VirtioTestDriver driver) =>
        Assert.NotEqual(0u, driver.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);

    [Fact]
    public void Indices_PassingFrom65535To0_KeepRequestsFlowing()
    {
        // 16,400 batches of 4 one-byte transmissions: both free-running indices pass 65535 and wrap to 0 (§2.7.6, §2.7.8).
        var (console, output) = Console(size: 4);
        var bytes = new ulong[4];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = console.Buffer(1, [(byte)('a' + i)]);
        }
        const int Batches = 16_400;
        for (var batch = 0; batch < Batches; batch++)
        {
            foreach (var address in bytes)
            {
                console.Offer(VirtioConsole.TransmitQueue, new TestBuffer(address, 1, false));
            }
            console.Kick(VirtioConsole.TransmitQueue);
        }

        var queue = console.Transport.Queues[VirtioConsole.TransmitQueue];
        Assert.Equal((ushort)64, queue.LastAvailIdx); // 65,600 mod 65,536
        Assert.Equal((ushort)64, queue.UsedIdx);
        Assert.Equal(64, console.UsedIdx(VirtioConsole.TransmitQueue));
        Assert.Equal(0u, console.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Equal((ulong)Batches * 4, console.Transport.Counters.Requests);
        Assert.Equal((ulong)Batches, console.Transport.Counters.Batches);
        Assert.Equal(Batches * 4, output.Bytes.Count);
        Assert.Equal("abcdabcd"u8.ToArray(), output.Bytes[^8..].ToArray());
    }

    [Fact]
    public void UsedRing_WrapsTheQueueSize_EachElementInSlotIndexModSize()
    {
        var (console, _) = Console(size: 4);
        var heads = new List<ushort>();
        for (var batch = 0; batch < 2; batch++)
        {
            for (var i = 0; i < 3; i++)
            {
                heads.Add(console.Offer(VirtioConsole.TransmitQueue, new TestBuffer(console.Buffer(1), 1, false)));
            }
            console.Kick(VirtioConsole.TransmitQueue);
        }

        Assert.Equal(6, console.UsedIdx(VirtioConsole.TransmitQueue));
        // Used indices 4 and 5 land in slots 0 and 1, over the first batch's elements.
        Assert.Equal((heads[4], 0u), console.UsedElement(VirtioConsole.TransmitQueue, 0));
        Assert.Equal((heads[5], 0u), console.UsedElement(VirtioConsole.TransmitQueue, 1));
        Assert.Equal((heads[2], 0u), console.UsedElement(VirtioConsole.TransmitQueue, 2));
        Assert.Equal((heads[3], 0u), console.UsedElement(VirtioConsole.TransmitQueue, 3));
    }

    [Fact]
    public void ChainedDescriptors_AreOneMessage_WhateverTheSplit()
    {
        var (console, output) = Console();
        console.Offer(
            VirtioConsole.TransmitQueue,
            new TestBuffer(console.Buffer(2, "ab"u8), 2, false),
            new TestBuffer(console.Buffer(0), 0, false),
            new TestBuffer(console.Buffer(3, "cde"u8), 3, false),
            new TestBuffer(console.Buffer(1, "f"u8), 1, false));
        console.Kick(VirtioConsole.TransmitQueue);
        Assert.Equal("abcdef", Encoding.ASCII.GetString([.. output.Bytes]));
        Assert.Equal(1UL, console.Transport.Counters.Requests);
    }

    [Fact]
    public void ChainedWritableDescriptors_AreFilledInOrder_AndUsedLenCountsWhatWasWritten()
    {
        var console = new VirtioTestDriver(new VirtioConsole());
        console.Initialize(VirtioMmioTransport.FeatureVersion1);
        var first = console.Buffer(3);
        var second = console.Buffer(8);
        var head = console.Offer(VirtioConsole.ReceiveQueue, new TestBuffer(first, 3, true), new TestBuffer(second, 8, true));
        console.Kick(VirtioConsole.ReceiveQueue);
        ((VirtioConsole)console.Transport.Device).Receive("hello"u8);

        Assert.Equal("hel"u8.ToArray(), console.ReadRam(first, 3));
        Assert.Equal("lo\0"u8.ToArray(), console.ReadRam(second, 3));
        Assert.Equal((head, 5u), console.UsedElement(VirtioConsole.ReceiveQueue, 0));
    }

    [Fact]
    public void DescriptorLoop_IsRefused_WithNeedsReset()
    {
        var (console, output) = Console();
        var data = console.Buffer(1, "x"u8);
        console.WriteDescriptor(VirtioConsole.TransmitQueue, 0, data, 1, SplitVirtqueue.DescriptorNext, 1);
        console.WriteDescriptor(VirtioConsole.TransmitQueue, 1, data, 1, SplitVirtqueue.DescriptorNext, 0);
        console.WriteAvailEntry(VirtioConsole.TransmitQueue, 0, 0);
        console.SetAvailIdx(VirtioConsole.TransmitQueue, 1);
        console.Kick(VirtioConsole.TransmitQueue);

        AssertNeedsReset(console);
        Assert.Empty(output.Bytes); // nothing of a broken chain is used
        Assert.Equal(0, console.UsedIdx(VirtioConsole.TransmitQueue));
        Assert.Equal(VirtioMmioTransport.InterruptConfigChange, console.Read(InterruptStatus));
    }

    [Fact]
    public void SelfLinkedDescriptor_IsALoopToo()
    {
        var (console, _) = Console();
        console.WriteDescriptor(VirtioConsole.TransmitQueue, 3, console.Buffer(1), 1, SplitVirtqueue.DescriptorNext, 3);
        console.WriteAvailEntry(VirtioConsole.TransmitQueue, 0, 3);
        console.SetAvailIdx(VirtioConsole.TransmitQueue, 1);
        console.Kick(VirtioConsole.TransmitQueue);
        AssertNeedsReset(console);
    }

    [Fact]
    public void NextIndexBeyondTheQueue_IsRefused_WithNeedsReset()
    {
        var (console, _) = Console();
        console.WriteDescriptor(VirtioConsole.TransmitQueue, 0, console.Buffer(1), 1, SplitVirtqueue.DescriptorNext, 16);
        console.WriteAvailEntry(VirtioConsole.TransmitQueue, 0, 0);
        console.SetAvailIdx(VirtioConsole.TransmitQueue, 1);
        console.Kick(VirtioConsole.TransmitQueue);
        AssertNeedsReset(console);
    }

    [Fact]
    public void HeadIndexBeyondTheQueue_IsRefused_WithNeedsReset()
    {
        var (console, _) = Console();
        console.WriteAvailEntry(VirtioConsole.TransmitQueue, 0, 40);
        console.SetAvailIdx(VirtioConsole.TransmitQueue, 1);
        console.Kick(VirtioConsole.TransmitQueue);
        AssertNeedsReset(console);
    }

    [Fact]
    public void AvailIndexMoreThanAQueueAhead_IsRefused_WithNeedsReset()
    {
        var (console, output) = Console(size: 4);
        for (var i = 0; i < 4; i++)
        {
            console.Offer(VirtioConsole.TransmitQueue, new TestBuffer(console.Buffer(1), 1, false));
        }
        console.SetAvailIdx(VirtioConsole.TransmitQueue, 5); // 5 outstanding in a queue of 4
        console.Kick(VirtioConsole.TransmitQueue);
        AssertNeedsReset(console);
        Assert.Empty(output.Bytes);
    }

    [Fact]
    public void IndirectDescriptor_WithoutTheFeature_IsRefused_WithNeedsReset()
    {
        var (console, _) = Console();
        console.WriteDescriptor(VirtioConsole.TransmitQueue, 0, console.Buffer(32), 32, SplitVirtqueue.DescriptorIndirect, 0);
        console.WriteAvailEntry(VirtioConsole.TransmitQueue, 0, 0);
        console.SetAvailIdx(VirtioConsole.TransmitQueue, 1);
        console.Kick(VirtioConsole.TransmitQueue);
        AssertNeedsReset(console);
    }

    [Fact]
    public void ReadableDescriptorAfterAWritableOne_IsRefused_WithNeedsReset()
    {
        var driver = new VirtioTestDriver(new VirtioBlock(new MemoryBlockStore(8)));
        driver.Initialize(VirtioMmioTransport.FeatureVersion1);
        var status = driver.Buffer(1, [0xff]);
        driver.Offer(0, new TestBuffer(status, 1, true), new TestBuffer(driver.Buffer(16, BlockRequest.Header(VirtioBlock.RequestFlush, 0)), 16, false));
        driver.Kick(0);
        AssertNeedsReset(driver);
        Assert.Equal(0xff, BlockRequest.Status(driver, status));
    }

    [Fact]
    public void ChainLongerThan2To32Bytes_IsRefused_WithNeedsReset()
    {
        var (console, output) = Console();
        var data = console.Buffer(16);
        console.Offer(VirtioConsole.TransmitQueue, new TestBuffer(data, uint.MaxValue, false), new TestBuffer(data, 1, false));
        console.Kick(VirtioConsole.TransmitQueue);
        AssertNeedsReset(console);
        Assert.Empty(output.Bytes);
    }

    [Fact]
    public void BufferWrappingTheAddressSpace_IsRefused_WithNeedsReset()
    {
        var (console, _) = Console();
        console.Offer(VirtioConsole.TransmitQueue, new TestBuffer(ulong.MaxValue - 4, 0x8000_0010, false));
        console.Kick(VirtioConsole.TransmitQueue);
        AssertNeedsReset(console);
    }

    [Fact]
    public void BufferOutsideGuestRam_IsNeverRead_AndTheDeviceNeedsAReset()
    {
        var (console, output) = Console();
        console.Offer(VirtioConsole.TransmitQueue, new TestBuffer(RamBase + RamSize - 2, 4, false)); // runs 2 bytes past RAM
        console.Kick(VirtioConsole.TransmitQueue);
        AssertNeedsReset(console);
        Assert.Empty(output.Bytes);
    }

    [Fact]
    public void RingsOutsideGuestRam_SetNeedsReset()
    {
        foreach (var register in new[] { QueueDescLow, QueueDriverLow, QueueDeviceLow })
        {
            var sink = new ByteSink();
            var console = new VirtioTestDriver(new VirtioConsole { Sink = sink });
            console.Negotiate(VirtioMmioTransport.FeatureVersion1);
            console.Write(QueueSel, VirtioConsole.TransmitQueue);
            console.Write(QueueNum, 16);
            console.WriteAddress(QueueDescLow, DescriptorArea(1));
            console.WriteAddress(QueueDriverLow, DriverArea(1));
            console.WriteAddress(QueueDeviceLow, DeviceArea(1));
            console.WriteAddress(register, 0x4000); // below RAM: no memory there
            console.Write(QueueReady, 1);
            console.Write(Status, console.Read(Status) | VirtioDeviceStatus.DriverOk);
            console.WriteDescriptor(1, 0, console.Buffer(1), 1, 0, 0);
            console.Ram.Write(DriverArea(1) + 4, 2, 0); // avail.ring[0] = descriptor 0
            console.Ram.Write(DriverArea(1) + 2, 2, 1); // avail.idx = 1
            console.Write(QueueNotify, 1);
            AssertNeedsReset(console);
        }
    }

    [Fact]
    public void NoInterruptFlag_SuppressesTheUsedBufferNotification()
    {
        var (console, output) = Console();
        console.SetAvailFlags(VirtioConsole.TransmitQueue, SplitVirtqueue.AvailNoInterrupt);
        console.Offer(VirtioConsole.TransmitQueue, new TestBuffer(console.Buffer(1, "q"u8), 1, false));
        console.Kick(VirtioConsole.TransmitQueue);
        Assert.Single(output.Bytes);
        Assert.Equal(1, console.UsedIdx(VirtioConsole.TransmitQueue));
        Assert.Equal(0u, console.Read(InterruptStatus));
        Assert.False(console.Irq.Level);

        console.SetAvailFlags(VirtioConsole.TransmitQueue, 0);
        console.Offer(VirtioConsole.TransmitQueue, new TestBuffer(console.Buffer(1, "r"u8), 1, false));
        console.Kick(VirtioConsole.TransmitQueue);
        Assert.Equal(VirtioMmioTransport.InterruptUsedBuffer, console.Read(InterruptStatus));
        Assert.True(console.Irq.Level);
    }

    [Fact]
    public void NotifyWithNothingNew_UsesNothing_AndRaisesNothing()
    {
        var (console, _) = Console();
        console.Kick(VirtioConsole.TransmitQueue);
        Assert.Equal(1UL, console.Transport.Counters.Notifications);
        Assert.Equal(0UL, console.Transport.Counters.Batches);
        Assert.Equal(0UL, console.Transport.Counters.InterruptsRaised);
        Assert.Equal(0, console.UsedIdx(VirtioConsole.TransmitQueue));
    }
}
