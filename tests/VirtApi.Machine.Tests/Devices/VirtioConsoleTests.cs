using System.Text;
using VirtApi.Machine.Devices.Virtio;
using static VirtApi.Machine.Tests.Devices.VirtioTestDriver;

namespace VirtApi.Machine.Tests.Devices;

/// <summary>virtio-console's port 0 (virtio 1.2 §5.3): transmitq to the sink, input into posted receiveq buffers.</summary>
public sealed class VirtioConsoleTests
{
    private static (VirtioTestDriver Driver, VirtioConsole Console, ByteSink Output) Ready()
    {
        var sink = new ByteSink();
        var console = new VirtioConsole { Sink = sink };
        var driver = new VirtioTestDriver(console);
        driver.Initialize(VirtioMmioTransport.FeatureVersion1);
        return (driver, console, sink);
    }

    [Fact]
    public void Identity_IsDevice3_WithTwoQueues_NoFeatures_AndNoConfigurationSpace()
    {
        var driver = new VirtioTestDriver(new VirtioConsole());
        Assert.Equal(3u, driver.Read(DeviceId));
        driver.Write(DeviceFeaturesSel, 0);
        Assert.Equal(0u, driver.Read(DeviceFeatures));
        driver.Write(QueueSel, 1);
        Assert.Equal(256u, driver.Read(QueueNumMax));
        driver.Write(QueueSel, 2);
        Assert.Equal(0u, driver.Read(QueueNumMax)); // no control queues without MULTIPORT
        Assert.False(driver.Transport.Read(Config, 1, out _));
    }

    [Fact]
    public void Transmit_SendsEachChainsBytesToTheSink_InRingOrder()
    {
        var (driver, _, output) = Ready();
        driver.Offer(VirtioConsole.TransmitQueue, new TestBuffer(driver.Buffer(6, "hello "u8), 6, false));
        driver.Offer(VirtioConsole.TransmitQueue, new TestBuffer(driver.Buffer(6, "world\n"u8), 6, false));
        driver.Kick(VirtioConsole.TransmitQueue);

        Assert.Equal("hello world\n", Encoding.ASCII.GetString([.. output.Bytes]));
        Assert.Equal(2, driver.UsedIdx(VirtioConsole.TransmitQueue));
        Assert.Equal(0u, driver.UsedElement(VirtioConsole.TransmitQueue, 0).Length); // nothing written back
        Assert.Equal(12UL, driver.Transport.Counters.BytesTransferred);
        Assert.Equal(VirtioMmioTransport.InterruptUsedBuffer, driver.AcknowledgeInterrupt());
    }

    [Fact]
    public void Transmit_OfALargeBuffer_ArrivesWhole()
    {
        var (driver, _, output) = Ready();
        var text = Enumerable.Range(0, 5000).Select(i => (byte)('a' + (i % 26))).ToArray();
        driver.Offer(VirtioConsole.TransmitQueue, new TestBuffer(driver.Buffer(text.Length, text), (uint)text.Length, false));
        driver.Kick(VirtioConsole.TransmitQueue);
        Assert.Equal(text, output.Bytes.ToArray());
    }

    [Fact]
    public void Receive_FillsPostedBuffersInOrder_AndNotifiesOnce()
    {
        var (driver, console, _) = Ready();
        var first = driver.Buffer(4);
        var second = driver.Buffer(4);
        var third = driver.Buffer(4);
        driver.Offer(VirtioConsole.ReceiveQueue, new TestBuffer(first, 4, true));
        driver.Offer(VirtioConsole.ReceiveQueue, new TestBuffer(second, 4, true));
        driver.Offer(VirtioConsole.ReceiveQueue, new TestBuffer(third, 4, true));
        driver.Kick(VirtioConsole.ReceiveQueue);
        Assert.Equal(0, driver.UsedIdx(VirtioConsole.ReceiveQueue)); // buffers wait for input

        Assert.Equal(6, console.Receive("hello!"u8));

        Assert.Equal("hell"u8.ToArray(), driver.ReadRam(first, 4));
        Assert.Equal("o!"u8.ToArray(), driver.ReadRam(second, 2));
        Assert.Equal(2, driver.UsedIdx(VirtioConsole.ReceiveQueue));
        Assert.Equal(4u, driver.UsedElement(VirtioConsole.ReceiveQueue, 0).Length);
        Assert.Equal(2u, driver.UsedElement(VirtioConsole.ReceiveQueue, 1).Length);
        Assert.Equal(0, console.PendingInput);
        Assert.Equal(1UL, driver.Transport.Counters.InterruptsRaised);
        Assert.Equal(1UL, driver.Transport.Counters.Batches);

        console.Receive("?"u8);
        Assert.Equal((byte)'?', driver.ReadRam(third, 1)[0]);
        Assert.Equal(3, driver.UsedIdx(VirtioConsole.ReceiveQueue));
    }

    [Fact]
    public void Receive_WithNoBufferPosted_WaitsUntilTheDriverPostsOne()
    {
        var (driver, console, _) = Ready();
        console.Receive("late"u8);
        Assert.Equal(4, console.PendingInput);
        Assert.Equal(0UL, driver.Transport.Counters.Requests);

        var buffer = driver.Buffer(16);
        driver.Offer(VirtioConsole.ReceiveQueue, new TestBuffer(buffer, 16, true));
        driver.Kick(VirtioConsole.ReceiveQueue);

        Assert.Equal("late"u8.ToArray(), driver.ReadRam(buffer, 4));
        Assert.Equal(4u, driver.UsedElement(VirtioConsole.ReceiveQueue, 0).Length);
        Assert.Equal(0, console.PendingInput);
    }

    [Fact]
    public void Receive_BeforeDriverOk_IsDeliveredWhenDriverOkIsSet()
    {
        var console = new VirtioConsole();
        var driver = new VirtioTestDriver(console);
        driver.Negotiate(VirtioMmioTransport.FeatureVersion1);
        driver.SetUpQueue(VirtioConsole.ReceiveQueue, 16);
        driver.SetUpQueue(VirtioConsole.TransmitQueue, 16);
        var buffer = driver.Buffer(8);
        driver.Offer(VirtioConsole.ReceiveQueue, new TestBuffer(buffer, 8, true));
        driver.Kick(VirtioConsole.ReceiveQueue);
        console.Receive("early"u8);
        Assert.Equal(0, driver.UsedIdx(VirtioConsole.ReceiveQueue)); // §2.1.2: not before DRIVER_OK

        driver.Write(Status, driver.Read(Status) | VirtioDeviceStatus.DriverOk);

        Assert.Equal("early"u8.ToArray(), driver.ReadRam(buffer, 5));
        Assert.Equal(1, driver.UsedIdx(VirtioConsole.ReceiveQueue));
    }

    [Fact]
    public void Receive_WhileTheQueueIsNotReady_NeverTouchesGuestMemory()
    {
        var console = new VirtioConsole();
        var driver = new VirtioTestDriver(console);
        console.Receive("nobody listens"u8);
        Assert.Equal(0UL, driver.Ram.FramesTouched);
        Assert.Equal(14, console.PendingInput);
    }

    [Fact]
    public void Receive_BeyondTheInputBuffer_IsRefused()
    {
        var console = new VirtioConsole();
        Assert.Equal(VirtioConsole.InputCapacity - 1, console.Receive(new byte[VirtioConsole.InputCapacity - 1]));
        Assert.Equal(1, console.Receive("ab"u8));
        Assert.Equal(0, console.Receive("c"u8));
        Assert.Equal(VirtioConsole.InputCapacity, console.PendingInput);
    }

    [Fact]
    public void Receive_AroundTheEndOfTheInputRing_KeepsTheBytesInOrder()
    {
        var (driver, console, _) = Ready();
        var filler = new byte[VirtioConsole.InputCapacity - 3];
        console.Receive(filler);
        var drain = driver.Buffer(filler.Length);
        driver.Offer(VirtioConsole.ReceiveQueue, new TestBuffer(drain, (uint)filler.Length, true));
        driver.Kick(VirtioConsole.ReceiveQueue);
        Assert.Equal(0, console.PendingInput);

        console.Receive("wrapped"u8); // 3 bytes at the end of the ring, 4 at its start
        var buffer = driver.Buffer(7);
        driver.Offer(VirtioConsole.ReceiveQueue, new TestBuffer(buffer, 7, true));
        driver.Kick(VirtioConsole.ReceiveQueue);
        Assert.Equal("wrapped"u8.ToArray(), driver.ReadRam(buffer, 7));
    }
}
