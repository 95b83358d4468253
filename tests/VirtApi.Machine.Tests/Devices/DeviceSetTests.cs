using System.Text.Json;
using VirtApi.Machine.Board;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Devices.Block;
using VirtApi.Machine.Devices.Virtio;
using VirtApi.Machine.Memory;
using VirtApi.Machine.Tests.State;

namespace VirtApi.Machine.Tests.Devices;

/// <summary>A VM's devices on the board: where they sit, what empty slots answer, direct-access counts, and saved state.</summary>
public sealed class DeviceSetTests
{
    private static (VirtBoard Board, DeviceSet Set) Build(IReadOnlyList<BoardDevice> devices, DeviceSetState? state = null, List<byte>? console = null)
    {
        var board = new VirtBoard(new MachineConfig());
        var sink = new Sink(console ?? []);
        return (board, DeviceSet.Attach(board, new RamGuestMemory(board.Bus.Ram), devices, sink, state));
    }

    [Fact]
    public void EveryVirtioSlotAnswersAndOnlyOccupiedOnesHaveADevice()
    {
        var (board, _) = Build([new BoardDevice("virtio-blk2", BoardDeviceType.VirtioBlock, 2, new MemoryBlockStore(64))]);

        for (var slot = 0; slot < DeviceSlots.VirtioSlotCount; slot++)
        {
            var window = DeviceSlots.Virtio(slot).Start;
            Assert.True(board.Bus.Read(window, 4, out var magic));
            Assert.Equal(VirtioMmioTransport.MagicValue, magic);
            Assert.True(board.Bus.Read(window + 4, 4, out var version));
            Assert.Equal(2UL, version);
            Assert.True(board.Bus.Read(window + 8, 4, out var id));
            Assert.Equal(slot == 2 ? VirtioBlock.Id : 0, id);
        }
    }

    [Fact]
    public void AnEmptyLegacySlotIsNotOnTheBus()
    {
        var (board, _) = Build([new BoardDevice("ata1", BoardDeviceType.AtaDisk, 1, new MemoryBlockStore(64))]);

        Assert.False(board.Bus.Read(DeviceSlots.Legacy(0).Start + 7, 1, out _));
        Assert.True(board.Bus.Read(DeviceSlots.Legacy(1).Start + 7, 1, out var status));
        Assert.NotEqual(0UL, status & 0x40); // DRDY
        Assert.False(board.Bus.Read(DeviceSlots.Legacy(2).Start + 7, 1, out _));
    }

    [Fact]
    public void TwoDevicesCannotShareASlotOrAName()
    {
        var disk = new MemoryBlockStore(64);
        Assert.Throws<ArgumentException>(() => Build([new BoardDevice("a", BoardDeviceType.AtaDisk, 0, disk), new BoardDevice("b", BoardDeviceType.Uart, 0)]));
        Assert.Throws<ArgumentException>(() => Build([new BoardDevice("a", BoardDeviceType.AtaDisk, 0, disk), new BoardDevice("a", BoardDeviceType.Uart, 1)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Build([new BoardDevice("a", BoardDeviceType.Uart, DeviceSlots.LegacySlotCount)]));
        Assert.Throws<ArgumentException>(() => Build([new BoardDevice("a", BoardDeviceType.AtaDisk, 0)]));
    }

    [Fact]
    public void AccessesThroughTheBusAreDirectAndTheDeviceModelItselfIsNot()
    {
        var (board, set) = Build([new BoardDevice("uart1", BoardDeviceType.Uart, 0)]);
        var device = set.Devices[0];

        board.Bus.Write(DeviceSlots.Legacy(0).Start + 7, 1, 0x5a); // scratch register
        board.Bus.Read(DeviceSlots.Legacy(0).Start + 7, 1, out var scratch);
        device.Device.Read(7, 1, out _); // as a VMM emulating a trapped access does

        Assert.Equal(0x5aUL, scratch);
        Assert.Equal(2UL, device.DirectAccesses);
        Assert.Equal(2UL, device.Activity().DirectAccesses);
    }

    [Fact]
    public void AnExtraUartWritesToTheConsole()
    {
        var console = new List<byte>();
        var (board, _) = Build([new BoardDevice("uart1", BoardDeviceType.Uart, 0)], console: console);

        board.Bus.Write(DeviceSlots.Legacy(0).Start, 1, 'k');

        Assert.Equal("k"u8.ToArray(), console);
    }

    [Fact]
    public void SavedDevicesComeBackThroughJsonWithTheirRegistersAndCounts()
    {
        var disk = new MemoryBlockStore(64);
        BoardDevice[] devices =
        [
            new("virtio-blk0", BoardDeviceType.VirtioBlock, 0, disk),
            new("virtio-console1", BoardDeviceType.VirtioConsole, 1),
            new("ata0", BoardDeviceType.AtaDisk, 0, disk),
            new("uart1", BoardDeviceType.Uart, 1),
        ];
        var (board, set) = Build(devices);
        board.Bus.Write(DeviceSlots.Virtio(0).Start + 0x70, 4, VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver);
        board.Bus.Write(DeviceSlots.Legacy(0).Start + 2, 1, 5); // ATA sector count
        board.Bus.Write(DeviceSlots.Legacy(1).Start + 7, 1, 0x33); // UART scratch

        var json = JsonSerializer.Serialize(set.Save(), SavedMachine.Json);
        var (restoredBoard, restored) = Build(devices, JsonSerializer.Deserialize<DeviceSetState>(json, SavedMachine.Json));

        Assert.Equal(json, JsonSerializer.Serialize(restored.Save(), SavedMachine.Json));
        Assert.True(restoredBoard.Bus.Read(DeviceSlots.Virtio(0).Start + 0x70, 4, out var status));
        Assert.Equal((ulong)(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver), status);
        Assert.True(restoredBoard.Bus.Read(DeviceSlots.Legacy(0).Start + 2, 1, out var count));
        Assert.Equal(5UL, count);
        Assert.True(restoredBoard.Bus.Read(DeviceSlots.Legacy(1).Start + 7, 1, out var scratch));
        Assert.Equal(0x33UL, scratch);
    }

    [Fact]
    public void AStateWithoutOneOfTheDevicesIsRefused()
    {
        var (_, set) = Build([new BoardDevice("uart1", BoardDeviceType.Uart, 0)]);
        var state = set.Save();

        Assert.Throws<ArgumentException>(() => Build([new BoardDevice("uart1", BoardDeviceType.Uart, 0), new BoardDevice("uart2", BoardDeviceType.Uart, 1)], state));
    }

    private sealed class Sink(List<byte> bytes) : ISerialSink
    {
        public void Transmit(byte value) => bytes.Add(value);
    }
}
