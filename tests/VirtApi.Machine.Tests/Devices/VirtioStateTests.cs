using System.Text.Json;
using VirtApi.Machine.Devices.Block;
using VirtApi.Machine.Devices.Virtio;
using VirtApi.Machine.Tests.State;
using static VirtApi.Machine.Tests.Devices.VirtioTestDriver;

namespace VirtApi.Machine.Tests.Devices;

/// <summary>Saved state of virtio devices: Save → JSON → Restore continues exactly where the device was.</summary>
public sealed class VirtioStateTests
{
    private const ulong Features = VirtioMmioTransport.FeatureVersion1 | VirtioBlock.FeatureFlush;

    private static T RoundTrip<T>(T state)
        where T : class
    {
        var json = JsonSerializer.Serialize(state, SavedMachine.Json);
        var back = JsonSerializer.Deserialize<T>(json, SavedMachine.Json);
        Assert.NotNull(back);
        Assert.Equivalent(state, back, strict: true);
        Assert.Equal(json, JsonSerializer.Serialize(back, SavedMachine.Json));
        return back;
    }

    internal static VirtioMmioState TransportState() => new()
    {
        DeviceId = VirtioConsole.Id,
        Status = 0x4f,
        DeviceFeaturesSel = 1,
        DriverFeaturesSel = 7,
        DriverFeatures = VirtioMmioTransport.FeatureVersion1 | 1,
        DriverFeaturesBeyond64 = true,
        QueueSel = 9,
        InterruptStatus = 3,
        Queues =
        [
            new VirtqueueState { Size = 64, Ready = true, DescriptorArea = 0x8000_1000, DriverArea = 0x8000_2000, DeviceArea = 0x8000_3000, LastAvailIdx = 65535, UsedIdx = 65534 },
            new VirtqueueState { Size = 256, Ready = false, DescriptorArea = 0, DriverArea = 0, DeviceArea = 0, LastAvailIdx = 0, UsedIdx = 0 },
        ],
        Counters = new VirtioCountersState { RegisterAccesses = 1, Notifications = 2, Batches = 3, Requests = 4, BytesTransferred = 5, InterruptsRaised = 6, DeviceErrors = 7 },
    };

    [Fact]
    public void VirtioMmioState_RoundTripsThroughJson() => RoundTrip(TransportState());

    [Fact]
    public void VirtioConsoleState_RoundTripsThroughJson() => RoundTrip(new VirtioConsoleState { PendingInput = [0, 10, 255, .. "typed"u8] });

    [Fact]
    public void VirtioMmioState_WithAnUnknownOrMissingField_IsRejected()
    {
        var json = JsonSerializer.Serialize(TransportState(), SavedMachine.Json);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<VirtioMmioState>(json.Replace("\"UsedIdx\"", "\"UsedIndex\"", StringComparison.Ordinal), SavedMachine.Json));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<VirtioMmioState>(json.Replace("\"QueueSel\":9,", "", StringComparison.Ordinal), SavedMachine.Json));
    }

    [Fact]
    public void RestoredState_SavesAgainUnchanged()
    {
        var state = TransportState();
        var transport = VirtioMmioTransport.Restore(new VirtioMmioArgs(new VirtioConsole(), new VirtioTestDriver(new VirtioConsole()).Memory, new RecordingLine()), state);
        Assert.Equivalent(state, transport.Save(), strict: true);
    }

    [Fact]
    public void BlockTransport_SavedMidUse_ContinuesAsIfNeverSaved()
    {
        // Two identical disks take the same requests, two per notification (a queue of 8 descriptors
        // holds two 3-descriptor chains); one is saved, serialized and restored halfway.
        var reference = new VirtioTestDriver(new VirtioBlock(new MemoryBlockStore(32), "ref"));
        var store = new MemoryBlockStore(32);
        var saved = new VirtioTestDriver(new VirtioBlock(store, "ref"));
        foreach (var driver in new[] { reference, saved })
        {
            driver.Initialize(Features, size: 8);
            for (var i = 0; i < 6; i++)
            {
                BlockRequest.Offer(driver, VirtioBlock.RequestOut, (ulong)i, new TestBuffer(driver.Buffer(512, Enumerable.Repeat((byte)(i + 1), 512).ToArray()), 512, false));
                if (i % 2 == 1)
                {
                    driver.Kick(0); // the last notification stays unacknowledged
                }
            }
        }

        var json = JsonSerializer.Serialize(saved.Transport.Save(), SavedMachine.Json);
        var irq = new RecordingLine();
        saved.Transport = VirtioMmioTransport.Restore(
            new VirtioMmioArgs(new VirtioBlock(store, "ref"), saved.Memory, irq),
            JsonSerializer.Deserialize<VirtioMmioState>(json, SavedMachine.Json)!);
        Assert.True(irq.Level); // the unacknowledged notification is still asserted

        var reads = new List<byte[]>();
        foreach (var driver in new[] { reference, saved })
        {
            Assert.Equal(VirtioMmioTransport.InterruptUsedBuffer, driver.AcknowledgeInterrupt());
            var targets = new List<(ulong Data, ulong Status)>();
            for (var i = 0; i < 6; i++) // used indices 6 to 11 wrap the used ring of 8
            {
                var data = driver.Buffer(512);
                targets.Add((data, BlockRequest.Offer(driver, VirtioBlock.RequestIn, (ulong)i, new TestBuffer(data, 512, true))));
                if (i % 2 == 1)
                {
                    driver.Kick(0);
                }
            }
            Assert.All(targets, t => Assert.Equal(VirtioBlock.StatusOk, BlockRequest.Status(driver, t.Status)));
            reads.Add([.. targets.SelectMany(t => driver.ReadRam(t.Data, 512))]);
        }

        Assert.Equal(12, saved.UsedIdx(0));
        Assert.Equal(reference.ReadRam(DeviceArea(0), 6 + (8 * 8)), saved.ReadRam(DeviceArea(0), 6 + (8 * 8)));
        Assert.Equal(reads[0], reads[1]);
        Assert.Equal((byte)6, reads[1][^1]); // sector 5 holds the sixth write
        Assert.Equivalent(reference.Transport.Save(), saved.Transport.Save(), strict: true);
        Assert.Equal(12UL, saved.Transport.Counters.Requests);
        Assert.Equal(6UL, saved.Transport.Counters.Batches);
    }

    [Fact]
    public void Queue_RestoredAtIndex65534_WrapsOnward()
    {
        var console = new VirtioConsole();
        var driver = new VirtioTestDriver(console);
        driver.Initialize(VirtioMmioTransport.FeatureVersion1, size: 4);
        var state = driver.Transport.Save();
        state = state with
        {
            Queues = [state.Queues[0], state.Queues[1] with { LastAvailIdx = 65534, UsedIdx = 65534 }],
        };
        driver.Transport = VirtioMmioTransport.Restore(new VirtioMmioArgs(console, driver.Memory, driver.Irq), state);
        driver.SetAvailIdx(VirtioConsole.TransmitQueue, 65534);
        driver.Ram.Write(DeviceArea(VirtioConsole.TransmitQueue) + 2, 2, 65534);
        for (var i = 0; i < 3; i++)
        {
            driver.Offer(VirtioConsole.TransmitQueue, new TestBuffer(driver.Buffer(1), 1, false));
        }
        driver.Kick(VirtioConsole.TransmitQueue);

        Assert.Equal(1, driver.UsedIdx(VirtioConsole.TransmitQueue)); // 65534 + 3
        Assert.Equal(3UL, driver.Transport.Counters.Requests);
        Assert.Equal(0u, driver.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
    }

    [Fact]
    public void Console_SavedWithUndeliveredInput_DeliversItAfterRestore()
    {
        var console = new VirtioConsole();
        var driver = new VirtioTestDriver(console);
        driver.Initialize(VirtioMmioTransport.FeatureVersion1);
        console.Receive("kept"u8);
        var consoleState = RoundTrip(console.Save());
        var transportState = RoundTrip(driver.Transport.Save());

        var restored = VirtioConsole.Restore(new VirtioConsoleArgs(), consoleState);
        driver.Transport = VirtioMmioTransport.Restore(new VirtioMmioArgs(restored, driver.Memory, driver.Irq), transportState);
        Assert.Equal(4, restored.PendingInput);
        var buffer = driver.Buffer(8);
        driver.Offer(VirtioConsole.ReceiveQueue, new TestBuffer(buffer, 8, true));
        driver.Kick(VirtioConsole.ReceiveQueue);
        Assert.Equal("kept"u8.ToArray(), driver.ReadRam(buffer, 4));
    }

    [Fact]
    public void Restore_RefusesAStateThatDoesNotFitTheDevice()
    {
        var memory = new VirtioTestDriver(new VirtioConsole()).Memory;
        var state = TransportState();
        Assert.Throws<ArgumentException>(() => VirtioMmioTransport.Restore(new VirtioMmioArgs(new VirtioBlock(new MemoryBlockStore(1)), memory, new RecordingLine()), state));
        Assert.Throws<ArgumentException>(() => VirtioMmioTransport.Restore(new VirtioMmioArgs(new VirtioConsole(), memory, new RecordingLine()), state with { Queues = [state.Queues[0]] }));
        Assert.Throws<ArgumentException>(() => VirtioMmioTransport.Restore(new VirtioMmioArgs(new VirtioConsole(), memory, new RecordingLine()), state with { Queues = [state.Queues[0] with { Size = 3 }, state.Queues[1]] }));
        Assert.Throws<ArgumentException>(() => VirtioMmioTransport.Restore(new VirtioMmioArgs(new VirtioConsole(), memory, new RecordingLine(), QueueNumMax: 32), state));
        Assert.Throws<ArgumentException>(() => VirtioMmioTransport.Restore(new VirtioMmioArgs(new VirtioConsole(), memory, new RecordingLine()), state with { Queues = [state.Queues[0] with { DescriptorArea = 0x8000_1008 }, state.Queues[1]] }));
        Assert.Throws<ArgumentException>(() => VirtioConsole.Restore(new VirtioConsoleArgs(), new VirtioConsoleState { PendingInput = [.. new byte[VirtioConsole.InputCapacity + 1]] }));
    }
}
