using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using VirtApi.Machine.Board;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Elf;

namespace VirtApi.Machine.Tests.State;

/// <summary>One saved RAM frame as a snapshot stores it.</summary>
internal sealed record SavedFrame(ulong Address, byte[] Bytes);

/// <summary>What a hypervisor keeps of a board: its state and its touched RAM frames, as JSON.</summary>
internal sealed record SavedMachine(BoardState Board, ImmutableArray<SavedFrame> Frames)
{
    /// <summary>Strict, as the API is: a field the reader does not know is an error, not ignored.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public static string Take(VirtBoard board) => JsonSerializer.Serialize(
        new SavedMachine(board.Save(), [.. board.Bus.Ram.TouchedFrames().Select(f => new SavedFrame(f.Address, f.Frame.ToArray()))]),
        Json);

    public static SavedMachine Parse(string json) => JsonSerializer.Deserialize<SavedMachine>(json, Json) ?? throw new JsonException("null snapshot");
}

/// <summary>A board under test with its console captured.</summary>
internal sealed class TestMachine : ISerialSink
{
    public static readonly MachineConfig OneHart = new() { HartCount = 1, MemoryBytes = 64UL << 20 };

    private TestMachine(VirtBoard board)
    {
        Board = board;
        board.Uart.Sink = this;
    }

    public VirtBoard Board { get; }

    public List<byte> Console { get; } = [];

    public static MachineConfig Config(int harts) => OneHart with { HartCount = harts };

    public static TestMachine Boot(byte[] elf, int harts = 1)
    {
        var machine = new TestMachine(new VirtBoard(Config(harts)));
        machine.Board.Load(ElfLoader.Parse(elf));
        return machine;
    }

    /// <summary>A new board from a snapshot, as a hypervisor restores one: state, then every saved frame.</summary>
    public static TestMachine Restore(MachineConfig config, string json)
    {
        var saved = SavedMachine.Parse(json);
        var machine = new TestMachine(VirtBoard.Restore(config, saved.Board));
        foreach (var frame in saved.Frames)
        {
            machine.Board.Bus.Ram.RestoreFrame(frame.Address, frame.Bytes);
        }
        return machine;
    }

    public string Save() => SavedMachine.Take(Board);

    /// <summary>Runs in slices of <paramref name="slice"/> until the board stops for another reason than the slice.</summary>
    public RunResult RunToEnd(ulong slice = ulong.MaxValue, ulong budget = 50_000_000)
    {
        RunResult result;
        var left = budget;
        do
        {
            result = Board.Run(Math.Min(slice, left));
            left -= result.InstructionsRetired;
        }
        while (result.Reason == StopReason.InstructionLimit && left > 0);
        return result;
    }

    void ISerialSink.Transmit(byte value) => Console.Add(value);
}
