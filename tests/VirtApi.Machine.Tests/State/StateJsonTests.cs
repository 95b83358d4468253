using System.Collections.Immutable;
using System.Text.Json;
using VirtApi.Machine.Board;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Hart;
using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Tests.State;

/// <summary>Every state record goes through System.Text.Json and comes back unchanged (no custom converters).</summary>
public sealed class StateJsonTests
{
    private static void AssertRoundTrips<T>(T state)
        where T : class
    {
        var json = JsonSerializer.Serialize(state, SavedMachine.Json);
        var back = JsonSerializer.Deserialize<T>(json, SavedMachine.Json);
        Assert.NotNull(back);
        // Records compare arrays by reference, so the check is structural, and again on the text.
        Assert.Equivalent(state, back, strict: true);
        Assert.Equal(json, JsonSerializer.Serialize(back, SavedMachine.Json));
    }

    private static ImmutableArray<T> Distinct<T>(int length, Func<int, T> value) => [.. Enumerable.Range(0, length).Select(value)];

    internal static HartCountersState Counters(ulong seed) => new()
    {
        RetiredByPrivilege = Distinct(4, i => seed + (ulong)i),
        Exceptions = Distinct(16, i => seed + 10 + (ulong)i),
        Interrupts = Distinct(16, i => seed + 30 + (ulong)i),
        PageWalks = seed + 50,
        TlbHits = seed + 51,
        TlbMisses = seed + 52,
        SilentFailures = seed + 53,
    };

    internal static CsrFileState Csrs(ulong seed) => new()
    {
        Mstatus = seed + 1,
        Medeleg = seed + 2,
        Mideleg = seed + 3,
        Mie = seed + 4,
        MipSoftware = seed + 5,
        MipPlatform = seed + 6,
        Mtvec = seed + 7,
        Stvec = seed + 8,
        Mscratch = seed + 9,
        Sscratch = seed + 10,
        Mepc = seed + 11,
        Sepc = seed + 12,
        Mcause = seed + 13,
        Scause = seed + 14,
        Mtval = seed + 15,
        Stval = seed + 16,
        Satp = seed + 17,
        Mcounteren = seed + 18,
        Scounteren = seed + 19,
        Menvcfg = ulong.MaxValue - seed,
        Stimecmp = ulong.MaxValue,
        Mcountinhibit = seed + 20,
        PmpCfg = Distinct(16, i => seed + 100 + (ulong)i),
        PmpAddr = Distinct(64, i => seed + 200 + (ulong)i),
    };

    internal static HartState Hart(ulong seed, ulong? reservation) => new()
    {
        Registers = Distinct(32, i => i == 0 ? 0 : ulong.MaxValue - seed - (ulong)i),
        Pc = 0x8000_0000 + seed,
        Privilege = PrivilegeLevel.Supervisor,
        Waiting = true,
        InstructionsRetired = seed + 1_000_000,
        Reservation = reservation,
        TrapsWithoutProgress = 3,
        SilentStatusAccess = true,
        LastTrapCause = (1UL << 63) | 5,
        LastTrapValue = seed + 7,
        LastTrapPc = seed + 8,
        Csrs = Csrs(seed),
        Counters = Counters(seed),
    };

    internal static ClintState Clint() => new() { Msip = [1, 0], TimerCompare = [ulong.MaxValue, 12_345] };

    internal static PlicState Plic() => new()
    {
        Priority = Distinct(Machine.Devices.Plic.SourceCount, i => (uint)(i % 8)),
        Level = Distinct(Machine.Devices.Plic.SourceCount, i => i % 3 == 0),
        Pending = Distinct(Machine.Devices.Plic.SourceCount, i => i % 5 == 0),
        Claimed = Distinct(Machine.Devices.Plic.SourceCount, i => i % 7 == 0),
        Enable = Distinct(4, c => Distinct(Machine.Devices.Plic.SourceCount / 32, w => (uint)((c * 3) + w + 1) * 0x1001_0001u)),
        Threshold = [0, 1, 2, 7],
    };

    internal static UartState Uart() => new()
    {
        Ier = 3,
        Lcr = 0x83,
        Mcr = 0x1f,
        Scr = 0xaa,
        Fcr = 0xc1,
        Dll = 12,
        Dlm = 1,
        ReceiveFifo = [0, 10, 255, .. "typed"u8],
        ThrEmptyPending = true,
    };

    internal static BoardState Board() => new()
    {
        Harts = [Hart(1, reservation: 0x8000_1000), Hart(2, reservation: null)],
        Clint = Clint(),
        Plic = Plic(),
        Uart = Uart(),
        CurrentHart = 1,
        RoundStartInstret = [100, 200],
        RetiredInTurn = [1000, 17],
        BaseTicks = 4242,
        Tohost = 0x8000_2000,
        Fromhost = 0x8000_2008,
        PoweredOff = true,
        ExitCode = -3,
        ResetRequested = true,
        InstructionsRetired = 1_234_567,
        BootRomEntry = 0x8000_0000,
    };

    [Fact]
    public void HartCountersState_RoundTripsThroughJson() => AssertRoundTrips(Counters(7));

    [Fact]
    public void CsrFileState_RoundTripsThroughJson() => AssertRoundTrips(Csrs(7));

    [Fact]
    public void HartState_RoundTripsThroughJson_WithAndWithoutAReservation()
    {
        AssertRoundTrips(Hart(7, reservation: 0x8000_0008));
        AssertRoundTrips(Hart(7, reservation: null));
    }

    [Fact]
    public void ClintState_RoundTripsThroughJson() => AssertRoundTrips(Clint());

    [Fact]
    public void PlicState_RoundTripsThroughJson() => AssertRoundTrips(Plic());

    [Fact]
    public void UartState_RoundTripsThroughJson() => AssertRoundTrips(Uart());

    [Fact]
    public void BoardState_RoundTripsThroughJson_WithAndWithoutABootRom()
    {
        AssertRoundTrips(Board());
        AssertRoundTrips(Board() with { BootRomEntry = null });
    }

    [Fact]
    public void BoardState_WithAnUnknownOrMissingField_IsRejected()
    {
        var json = JsonSerializer.Serialize(Board(), SavedMachine.Json);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<BoardState>(json.Replace("\"BaseTicks\"", "\"BaseTick\"", StringComparison.Ordinal), SavedMachine.Json));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<BoardState>(json.Replace("\"BaseTicks\":4242,", "", StringComparison.Ordinal), SavedMachine.Json));
    }
}
