using VirtApi.Machine.Board;
using VirtApi.Machine.Devices.Block;
using VirtApi.Machine.Devices.Virtio;
using static VirtApi.Machine.Tests.Devices.VirtioTestDriver;

namespace VirtApi.Machine.Tests.Devices;

/// <summary>The virtio-mmio version 2 registers (virtio 1.2 §4.2.2) and the status protocol (§2.1, §3.1).</summary>
public sealed class VirtioTransportTests
{
    private const uint AckDriver = VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver;
    private const uint AckDriverFeaturesOk = AckDriver | VirtioDeviceStatus.FeaturesOk;

    private static VirtioTestDriver Block() => new(new VirtioBlock(new MemoryBlockStore(64)));

    [Fact]
    public void Identity_IsMagicVirt_Version2_TheDeviceId_AndQemusVendor()
    {
        var block = Block();
        Assert.Equal(0x7472_6976u, block.Read(MagicValue));
        Assert.Equal(2u, block.Read(VirtioTestDriver.Version));
        Assert.Equal(2u, block.Read(DeviceId));
        Assert.Equal(0x554d_4551u, block.Read(VendorId));
        Assert.Equal(3u, new VirtioTestDriver(new VirtioConsole()).Read(DeviceId));
    }

    [Fact]
    public void DeviceFeatures_ShowTheDeviceTypesBitsAndVersion1_ByTheSelectedWord()
    {
        var block = Block();
        block.Write(DeviceFeaturesSel, 0);
        Assert.Equal(1u << 9, block.Read(DeviceFeatures)); // VIRTIO_BLK_F_FLUSH
        block.Write(DeviceFeaturesSel, 1);
        Assert.Equal(1u, block.Read(DeviceFeatures)); // VIRTIO_F_VERSION_1 is bit 32
        block.Write(DeviceFeaturesSel, 2);
        Assert.Equal(0u, block.Read(DeviceFeatures));
    }

    [Fact]
    public void FeaturesOk_IsKept_WhenTheDriverAcceptsOfferedFeaturesWithVersion1()
    {
        var block = Block();
        Assert.Equal(AckDriverFeaturesOk, block.Negotiate(VirtioMmioTransport.FeatureVersion1 | VirtioBlock.FeatureFlush));
        Assert.Equal(VirtioMmioTransport.FeatureVersion1 | VirtioBlock.FeatureFlush, block.Transport.DriverFeatures);
        Assert.Equal(AckDriverFeaturesOk, block.Negotiate(VirtioMmioTransport.FeatureVersion1));
    }

    [Theory]
    [InlineData(28)] // VIRTIO_F_INDIRECT_DESC
    [InlineData(29)] // VIRTIO_F_EVENT_IDX
    [InlineData(10)] // VIRTIO_BLK_F_TOPOLOGY
    [InlineData(33)] // VIRTIO_F_ACCESS_PLATFORM
    [InlineData(63)]
    public void FeaturesOk_IsRefused_WhenTheDriverAcceptsAFeatureNotOffered(int bit)
    {
        var block = Block();
        Assert.Equal(AckDriver, block.Negotiate(VirtioMmioTransport.FeatureVersion1 | (1UL << bit)));
        Assert.Equal(0u, block.Transport.Counters.DeviceErrors); // a refusal, not an error
    }

    [Fact]
    public void FeaturesOk_IsRefused_WithoutVersion1()
    {
        Assert.Equal(AckDriver, Block().Negotiate(VirtioBlock.FeatureFlush));
    }

    [Fact]
    public void FeaturesOk_IsRefused_WhenAFeatureBeyondBit63IsAccepted()
    {
        var block = Block();
        block.Write(Status, VirtioDeviceStatus.Acknowledge);
        block.Write(Status, AckDriver);
        block.Write(DriverFeaturesSel, 1);
        block.Write(DriverFeatures, 1);
        block.Write(DriverFeaturesSel, 2);
        block.Write(DriverFeatures, 4);
        block.Write(Status, AckDriverFeaturesOk);
        Assert.Equal(AckDriver, block.Read(Status));
    }

    [Fact]
    public void DriverOk_AfterARefusedFeaturesOk_SetsNeedsReset()
    {
        var block = Block();
        block.Negotiate(1UL << 28);
        block.Write(Status, AckDriverFeaturesOk | VirtioDeviceStatus.DriverOk);
        Assert.Equal(AckDriver | VirtioDeviceStatus.DeviceNeedsReset, block.Read(Status));
    }

    [Theory]
    [InlineData(VirtioDeviceStatus.Driver)] // DRIVER without ACKNOWLEDGE
    [InlineData(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.FeaturesOk)] // FEATURES_OK without DRIVER
    [InlineData(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.DriverOk)] // DRIVER_OK without FEATURES_OK
    public void StatusBits_SetOutOfOrder_SetNeedsReset(uint status)
    {
        var block = Block();
        block.Write(Status, status);
        Assert.Equal(VirtioDeviceStatus.DeviceNeedsReset, block.Read(Status));
        Assert.Equal(1u, block.Transport.Counters.DeviceErrors);
    }

    [Fact]
    public void ClearingAStatusBit_SetsNeedsReset()
    {
        var block = Block();
        block.Negotiate(VirtioMmioTransport.FeatureVersion1);
        block.Write(Status, VirtioDeviceStatus.Acknowledge);
        Assert.Equal(AckDriverFeaturesOk | VirtioDeviceStatus.DeviceNeedsReset, block.Read(Status));
    }

    [Fact]
    public void Reset_ReturnsEveryRegisterToItsResetValue_AndLowersTheInterrupt()
    {
        var block = Block();
        block.Initialize(VirtioMmioTransport.FeatureVersion1);
        var status = BlockRequest.Offer(block, VirtioBlock.RequestFlush, 0);
        block.Kick(0);
        Assert.Equal(VirtioBlock.StatusOk, BlockRequest.Status(block, status));
        Assert.True(block.Irq.Level);

        block.Write(Status, 0);

        Assert.Equal(0u, block.Read(Status));
        Assert.Equal(0u, block.Read(InterruptStatus));
        Assert.False(block.Irq.Level);
        Assert.Equal(0UL, block.Transport.DriverFeatures);
        block.Write(QueueSel, 0);
        Assert.Equal(0u, block.Read(QueueReady));
        var queue = block.Transport.Queues[0];
        Assert.Equal((queue.Size, queue.DescriptorArea, queue.DriverArea, queue.DeviceArea, queue.LastAvailIdx, queue.UsedIdx), ((ushort)256, 0UL, 0UL, 0UL, (ushort)0, (ushort)0));
    }

    [Fact]
    public void Reset_ClearsNeedsReset_AndTheDeviceWorksAgain()
    {
        var block = Block();
        block.Initialize(VirtioMmioTransport.FeatureVersion1);
        block.Write(QueueNotify, 5); // no such queue
        Assert.NotEqual(0u, block.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);

        block.Initialize(VirtioMmioTransport.FeatureVersion1);
        var status = BlockRequest.Offer(block, VirtioBlock.RequestFlush, 0);
        block.Kick(0);

        Assert.Equal(AckDriverFeaturesOk | VirtioDeviceStatus.DriverOk, block.Read(Status));
        Assert.Equal(VirtioBlock.StatusOk, BlockRequest.Status(block, status));
    }

    [Fact]
    public void QueueSetup_RecordsSizeAndAreas_AndAQueueThatDoesNotExistHasQueueNumMaxZero()
    {
        var console = new VirtioTestDriver(new VirtioConsole(), queueNumMax: 64);
        console.Negotiate(VirtioMmioTransport.FeatureVersion1);
        console.Write(QueueSel, 1);
        Assert.Equal(64u, console.Read(QueueNumMax));
        console.SetUpQueue(1, 32);
        var queue = console.Transport.Queues[1];
        Assert.True(queue.Ready);
        Assert.Equal((ushort)32, queue.Size);
        Assert.Equal((DescriptorArea(1), DriverArea(1), DeviceArea(1)), (queue.DescriptorArea, queue.DriverArea, queue.DeviceArea));
        Assert.Equal(1u, console.Read(QueueReady));

        console.Write(QueueSel, 2);
        Assert.Equal(0u, console.Read(QueueNumMax));
        Assert.Equal(0u, console.Read(QueueReady));
        console.Write(QueueNum, 8); // ignored: nothing to set up
        Assert.Equal(0u, console.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(3u)]
    [InlineData(512u)] // above QueueNumMax
    public void QueueNum_NotAPowerOfTwoUpToQueueNumMax_SetsNeedsReset(uint size)
    {
        var block = Block();
        block.Negotiate(VirtioMmioTransport.FeatureVersion1);
        block.Write(QueueSel, 0);
        block.Write(QueueNum, size);
        Assert.NotEqual(0u, block.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Equal((ushort)256, block.Transport.Queues[0].Size);
    }

    [Theory]
    [InlineData(QueueNum)]
    [InlineData(QueueDescLow)]
    [InlineData(QueueDriverHigh)]
    [InlineData(QueueDeviceLow)]
    public void QueueRegisters_WrittenWhileTheQueueIsReady_SetNeedsReset_AndKeepTheirValue(ulong register)
    {
        var block = Block();
        block.Negotiate(VirtioMmioTransport.FeatureVersion1);
        block.SetUpQueue(0, 16);
        block.Write(register, 0x40);
        Assert.NotEqual(0u, block.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
        var queue = block.Transport.Queues[0];
        Assert.Equal(((ushort)16, DescriptorArea(0), DriverArea(0), DeviceArea(0)), (queue.Size, queue.DescriptorArea, queue.DriverArea, queue.DeviceArea));
    }

    [Fact]
    public void QueueReady_BeforeFeaturesOk_SetsNeedsReset()
    {
        var block = Block();
        block.Write(Status, VirtioDeviceStatus.Acknowledge);
        block.Write(Status, AckDriver);
        block.Write(QueueSel, 0);
        block.Write(QueueNum, 16);
        block.Write(QueueReady, 1);
        Assert.Equal(AckDriver | VirtioDeviceStatus.DeviceNeedsReset, block.Read(Status));
        Assert.False(block.Transport.Queues[0].Ready);
    }

    [Theory]
    [InlineData(QueueDescLow, 8ul)] // the descriptor table is 16-aligned
    [InlineData(QueueDriverLow, 1ul)] // the available ring 2-aligned
    [InlineData(QueueDeviceLow, 2ul)] // the used ring 4-aligned
    public void QueueReady_WithAMisalignedArea_SetsNeedsReset(ulong register, ulong misalignment)
    {
        var block = Block();
        block.Negotiate(VirtioMmioTransport.FeatureVersion1);
        block.Write(QueueSel, 0);
        block.Write(QueueNum, 16);
        block.WriteAddress(QueueDescLow, DescriptorArea(0));
        block.WriteAddress(QueueDriverLow, DriverArea(0));
        block.WriteAddress(QueueDeviceLow, DeviceArea(0));
        block.WriteAddress(register, RamBase + 0x8000 + misalignment);
        block.Write(QueueReady, 1);
        Assert.NotEqual(0u, block.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
        Assert.False(block.Transport.Queues[0].Ready);
    }

    [Fact]
    public void QueueReady_WithAnAreaWrappingTheAddressSpace_SetsNeedsReset()
    {
        var block = Block();
        block.Negotiate(VirtioMmioTransport.FeatureVersion1);
        block.Write(QueueSel, 0);
        block.Write(QueueNum, 16);
        block.WriteAddress(QueueDescLow, ulong.MaxValue - 0xf);
        block.WriteAddress(QueueDriverLow, DriverArea(0));
        block.WriteAddress(QueueDeviceLow, DeviceArea(0));
        block.Write(QueueReady, 1);
        Assert.NotEqual(0u, block.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
    }

    [Fact]
    public void Notify_OfAQueueNotReady_AfterDriverOk_SetsNeedsReset_AndSendsAConfigurationChange()
    {
        var console = new VirtioTestDriver(new VirtioConsole());
        console.Negotiate(VirtioMmioTransport.FeatureVersion1);
        console.SetUpQueue(0, 16);
        console.Write(Status, AckDriverFeaturesOk | VirtioDeviceStatus.DriverOk);
        console.Write(QueueNotify, 1); // queue 1 exists but was never made ready

        Assert.Equal(AckDriverFeaturesOk | VirtioDeviceStatus.DriverOk | VirtioDeviceStatus.DeviceNeedsReset, console.Read(Status));
        Assert.Equal(VirtioMmioTransport.InterruptConfigChange, console.Read(InterruptStatus));
        Assert.True(console.Irq.Level);
        Assert.Equal(1UL, console.Transport.Counters.DeviceErrors);
    }

    [Fact]
    public void Notify_OfAQueueNotReady_BeforeDriverOk_SetsNeedsReset_WithoutAnInterrupt()
    {
        var block = Block();
        block.Negotiate(VirtioMmioTransport.FeatureVersion1);
        block.Write(QueueNotify, 0);
        Assert.Equal(AckDriverFeaturesOk | VirtioDeviceStatus.DeviceNeedsReset, block.Read(Status));
        Assert.Equal(0u, block.Read(InterruptStatus)); // §2.1.2: the notification is owed only once DRIVER_OK is set
        Assert.False(block.Irq.Level);
    }

    [Fact]
    public void Notify_BeforeDriverOk_IsServedWhenDriverOkIsSet()
    {
        var block = Block();
        block.Negotiate(VirtioMmioTransport.FeatureVersion1);
        block.SetUpQueue(0, 16);
        var status = BlockRequest.Offer(block, VirtioBlock.RequestFlush, 0);
        block.Kick(0);
        Assert.Equal(0xff, BlockRequest.Status(block, status)); // §2.1.2: no buffer used before DRIVER_OK
        Assert.Equal(0, block.UsedIdx(0));

        block.Write(Status, AckDriverFeaturesOk | VirtioDeviceStatus.DriverOk);

        Assert.Equal(VirtioBlock.StatusOk, BlockRequest.Status(block, status));
        Assert.Equal(1, block.UsedIdx(0));
        Assert.Equal(VirtioMmioTransport.InterruptUsedBuffer, block.Read(InterruptStatus));
    }

    [Fact]
    public void NeedsReset_IgnoresSetupAndNotifications_UntilTheDriverResets()
    {
        var block = Block();
        block.Initialize(VirtioMmioTransport.FeatureVersion1);
        block.Write(QueueNum, 3); // error: queue 0 is ready
        var status = BlockRequest.Offer(block, VirtioBlock.RequestFlush, 0);
        block.Kick(0);
        block.Write(QueueReady, 0);
        Assert.Equal(0xff, BlockRequest.Status(block, status));
        Assert.True(block.Transport.Queues[0].Ready);
        Assert.Equal(1UL, block.Transport.Counters.Notifications);
        Assert.Equal(1UL, block.Transport.Counters.DeviceErrors);
    }

    [Fact]
    public void Failed_StopsTheDeviceUsingItsQueues()
    {
        var block = Block();
        block.Initialize(VirtioMmioTransport.FeatureVersion1);
        block.Write(Status, block.Read(Status) | VirtioDeviceStatus.Failed);
        var status = BlockRequest.Offer(block, VirtioBlock.RequestFlush, 0);
        block.Kick(0);
        Assert.Equal(0xff, BlockRequest.Status(block, status));
        Assert.Equal(0u, block.Read(Status) & VirtioDeviceStatus.DeviceNeedsReset);
    }

    [Theory]
    [InlineData(MagicValue, 8)]
    [InlineData(MagicValue, 2)]
    [InlineData(MagicValue, 1)]
    [InlineData(MagicValue + 2, 4)]
    [InlineData(QueueNotify, 4)] // write-only
    [InlineData(InterruptAck, 4)] // write-only
    [InlineData(0x0c0ul, 4)] // QueueReset: VIRTIO_F_RING_RESET is not offered
    [InlineData(0x018ul, 4)] // no register
    [InlineData(Config + 4, 8)] // config space: no 64-bit accesses (§4.2.2.2)
    [InlineData(Config + 6, 4)] // misaligned
    [InlineData(Config + 5, 2)] // misaligned
    [InlineData(Config + 8, 1)] // past the block configuration (capacity only)
    public void Reads_OfTheWrongWidthOrOfNoReadableRegister_AreRefused(ulong offset, int size)
    {
        var block = Block();
        Assert.False(block.Transport.Read(offset, size, out _));
    }

    [Theory]
    [InlineData(MagicValue)]
    [InlineData(QueueNumMax)]
    [InlineData(InterruptStatus)]
    [InlineData(ConfigGeneration)]
    [InlineData(DeviceFeatures)]
    [InlineData(Config)] // capacity is read-only
    public void Writes_OfReadOnlyRegisters_AreRefused(ulong offset)
    {
        Assert.False(Block().Transport.Write(offset, 4, 1));
    }

    [Fact]
    public void Writes_OfTheWrongWidth_AreRefused_AndChangeNothing()
    {
        var block = Block();
        Assert.False(block.Transport.Write(Status, 1, VirtioDeviceStatus.Acknowledge));
        Assert.False(block.Transport.Write(Status, 8, VirtioDeviceStatus.Acknowledge));
        Assert.Equal(0u, block.Read(Status));
    }

    [Fact]
    public void SharedMemoryRegisters_DescribeNoRegion()
    {
        var block = Block();
        block.Write(0x0ac, 0); // SHMSel
        foreach (var register in new ulong[] { 0x0b0, 0x0b4, 0x0b8, 0x0bc })
        {
            Assert.Equal(uint.MaxValue, block.Read(register)); // §4.2.2: a region that does not exist
        }
    }

    [Fact]
    public void ConfigGeneration_StaysZero_ForAConfigurationThatNeverChanges()
    {
        var block = Block();
        Assert.Equal(0u, block.Read(ConfigGeneration));
        block.Initialize(VirtioMmioTransport.FeatureVersion1);
        Assert.Equal(0u, block.Read(ConfigGeneration));
    }

    [Fact]
    public void InterruptAck_LowersTheLine_OnlyOnceEveryEventIsAcknowledged()
    {
        var block = Block();
        block.Initialize(VirtioMmioTransport.FeatureVersion1);
        BlockRequest.Offer(block, VirtioBlock.RequestFlush, 0);
        block.Kick(0);
        block.Write(QueueNotify, 7); // error: a configuration change notification as well
        Assert.Equal(VirtioMmioTransport.InterruptUsedBuffer | VirtioMmioTransport.InterruptConfigChange, block.Read(InterruptStatus));
        Assert.Equal(1UL, block.Transport.Counters.InterruptsRaised); // the line was already high

        block.Write(InterruptAck, VirtioMmioTransport.InterruptUsedBuffer);
        Assert.True(block.Irq.Level);
        block.Write(InterruptAck, VirtioMmioTransport.InterruptConfigChange);
        Assert.False(block.Irq.Level);
        Assert.Equal(0u, block.Read(InterruptStatus));
    }

    [Fact]
    public void RegisterAccesses_AreCounted_RefusedOnesToo()
    {
        var block = Block();
        block.Read(MagicValue);
        block.Write(Status, VirtioDeviceStatus.Acknowledge);
        block.Transport.Read(MagicValue, 8, out _);
        block.Transport.Read(Config, 4, out _);
        Assert.Equal(4UL, block.Transport.Counters.RegisterAccesses);
    }

    [Fact]
    public void Slots_AreQemuVirts_0x1000_1000Upward_WithPlicSourcesFrom1()
    {
        Assert.Equal(new Bus.AddressRange(0x1000_1000, 0x1000), DeviceSlots.Virtio(0));
        Assert.Equal(new Bus.AddressRange(0x1000_8000, 0x1000), DeviceSlots.Virtio(7));
        Assert.Equal(1, DeviceSlots.VirtioInterrupt(0));
        Assert.Equal(8, DeviceSlots.VirtioInterrupt(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceSlots.Virtio(8));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceSlots.VirtioInterrupt(-1));
    }
}
