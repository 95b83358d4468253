using VirtApi.Machine.Bus;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Elf;
using VirtApi.Machine.Memory;
using VirtApi.Machine.Traps;
using HartType = VirtApi.Machine.Hart.Hart;

namespace VirtApi.Machine.Board;

/// <summary>How to build a board.</summary>
public sealed record MachineConfig
{
    /// <summary>Harts, 1 to 8.</summary>
    public int HartCount { get; init; } = 1;

    /// <summary>RAM at 0x8000_0000, a multiple of 4 KiB; sparse.</summary>
    public ulong MemoryBytes { get; init; } = 128UL << 20;

    /// <summary>mtime advances by one tick every this many instructions a hart retires (a 10 MHz timebase at 1 GHz by default).</summary>
    public ulong InstructionsPerTimerTick { get; init; } = 100;

    /// <summary>Instructions each hart runs in its turn; a multiple of <see cref="InstructionsPerTimerTick"/>.</summary>
    public int QuantumInstructions { get; init; } = 1000;
}

/// <summary>Why <see cref="VirtBoard.Run"/> returned.</summary>
public enum StopReason
{
    /// <summary>The guest powered the board off (test finisher or HTIF).</summary>
    PoweredOff,

    /// <summary>The instruction budget of this call is spent; the guest can go on.</summary>
    InstructionLimit,

    /// <summary>The guest asked for a reset (test finisher 0x7777).</summary>
    Reset,

    /// <summary>Every hart waits in wfi and no timer is armed: only outside input can wake the board.</summary>
    Idle,

    /// <summary>A hart keeps trapping without retiring an instruction (no usable trap handler).</summary>
    Stuck,
}

/// <summary>The end of a run.</summary>
public readonly record struct RunResult(StopReason Reason, int ExitCode, ulong InstructionsRetired);

/// <summary>
/// The QEMU <c>virt</c> board (DESIGN.md "The machine"): boot ROM 0x1000, test finisher 0x10_0000,
/// CLINT 0x200_0000, PLIC 0xC00_0000, UART 0x1000_0000 (PLIC source 10), RAM 0x8000_0000. Harts run
/// round-robin in fixed quanta on the calling thread, and time is virtual: it advances with retired
/// instructions, so the same image always runs the same way, however <see cref="Run"/> is sliced.
/// </summary>
public sealed class VirtBoard : IPowerControl, IClintPlatform, Hart.IHartPlatform
{
    public const ulong RamBase = 0x8000_0000;
    public const ulong TestFinisherBase = 0x10_0000;
    public const ulong ClintBase = 0x200_0000;
    public const ulong PlicBase = 0xC00_0000;
    public const ulong UartBase = 0x1000_0000;
    public const int UartInterrupt = 10;

    private readonly HartType[] _harts;
    private readonly MachineConfig _config;
    private readonly ulong[] _roundStartInstret;
    private readonly ulong[] _retiredInTurn;
    private int _current;
    private ulong _baseTicks;
    private ulong _tohost;
    private ulong _fromhost;
    private bool _resetRequested;

    // The entry the boot ROM jumps to, kept so that a restored board can build the same ROM.
    private ulong? _bootRomEntry;

    public VirtBoard(MachineConfig config)
        : this(config, state: null)
    {
    }

    // A fresh board, or (with a state) the board that state was saved from. The order matters when
    // restoring: the board's clock first, then the CLINT (its compare values), then the harts (which
    // recompute their timer lines from both), then the PLIC and the UART (which drive lines into the
    // restored harts and the PLIC).
    private VirtBoard(MachineConfig config, BoardState? state)
    {
        if (config.HartCount is < 1 or > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(config), config.HartCount, "HartCount must be 1 to 8");
        }
        if (config.QuantumInstructions <= 0 || (ulong)config.QuantumInstructions % config.InstructionsPerTimerTick != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(config), "QuantumInstructions must be a positive multiple of InstructionsPerTimerTick");
        }
        _config = config;
        Bus = new SystemBus(new SparseRam(RamBase, config.MemoryBytes));
        _harts = new HartType[config.HartCount];
        _roundStartInstret = new ulong[_harts.Length];
        _retiredInTurn = new ulong[_harts.Length];
        if (state is not null)
        {
            RestoreOwnState(state);
        }
        Clint = state is null ? new Clint(this) : Clint.Restore(new ClintArgs(this), state.Clint);
        for (var i = 0; i < _harts.Length; i++)
        {
            _harts[i] = state is null ? new HartType(i, Bus, this) : HartType.Restore(new Hart.HartArgs(i, Bus, this), state.Harts[i]);
        }
        Plic = state is null ? new Plic(_harts) : Plic.Restore(new PlicArgs(_harts), state.Plic);
        Uart = state is null ? new Uart16550(Plic.Source(UartInterrupt)) : Uart16550.Restore(new UartArgs(Plic.Source(UartInterrupt)), state.Uart);
        TestFinisher = new SifiveTest(this);
        Bus.Register(new AddressRange(TestFinisherBase, SifiveTest.Size), TestFinisher);
        Bus.Register(new AddressRange(ClintBase, Clint.Size), Clint);
        Bus.Register(new AddressRange(PlicBase, Plic.Size), Plic);
        Bus.Register(new AddressRange(UartBase, Uart16550.Size), Uart);
        // Other harts' reservations, and HTIF's tohost (restored with the board's own state).
        if (_harts.Length > 1 || _tohost != 0)
        {
            Bus.RamStoreObserver = StoreObserved;
        }
        if (state is not null)
        {
            RestoreFirmwareAndPower(state);
        }
    }

    public SystemBus Bus { get; }

    public IReadOnlyList<HartType> Harts => _harts;

    public Clint Clint { get; }

    public Plic Plic { get; }

    public Uart16550 Uart { get; }

    public SifiveTest TestFinisher { get; }

    public bool PoweredOff { get; private set; }

    public int ExitCode { get; private set; }

    /// <summary>Instructions retired by all harts.</summary>
    public ulong InstructionsRetired { get; private set; }

    /// <summary>
    /// Told of each RAM write HTIF makes (clearing <c>tohost</c>, answering in <c>fromhost</c>), by
    /// address. They are a device's writes, not a hart's stores, so a VMM that logs the pages its guest
    /// writes (a migration's log-dirty mode) sees them only here, as it sees a back end's DMA.
    /// </summary>
    public Action<ulong>? HtifWriteObserver { get; set; }

    /// <summary>Virtual time: the CLINT's mtime at the start of the current round.</summary>
    public ulong Time => _baseTicks;

    /// <summary>Loads the image into RAM and resets every hart to the boot ROM (which jumps to the entry).</summary>
    public void Load(ElfImage image)
    {
        ElfLoader.CheckFits(image, RamBase, _config.MemoryBytes);
        foreach (var segment in image.Segments)
        {
            Bus.Ram.Load(segment.Address, segment.Data);
        }
        InstallFirmware(image);
    }

    /// <summary>
    /// The rest of <see cref="Load"/> once the segments are in memory: the boot ROM that jumps to the
    /// entry, HTIF when the image defines <c>tohost</c>, every hart reset to the ROM. A VMM that placed
    /// the segments itself passes <paramref name="guestToMachine"/> so HTIF watches the machine
    /// address where the guest's <c>tohost</c> really lives.
    /// </summary>
    public void InstallFirmware(ElfImage image, Func<ulong, ulong>? guestToMachine = null)
    {
        InstallBootRom(image.Entry);
        if (image.Symbols.TryGetValue("tohost", out var tohost))
        {
            // HTIF (riscv-tests convention): the guest writes tohost; 1 = pass, (n << 1) | 1 = test n failed.
            _tohost = guestToMachine?.Invoke(tohost) ?? tohost;
            var fromhost = image.Symbols.GetValueOrDefault("fromhost");
            _fromhost = fromhost != 0 && guestToMachine is not null ? guestToMachine(fromhost) : fromhost;
            Bus.RamStoreObserver = StoreObserved;
        }
        foreach (var hart in _harts)
        {
            hart.Reset(BootRom.Address);
        }
    }

    // The boot ROM jumping to entry, remembered so that a snapshot can rebuild the same ROM.
    private void InstallBootRom(ulong entry)
    {
        Bus.Register(new AddressRange(BootRom.Address, BootRom.Size), new BootRom(entry, deviceTree: 0));
        _bootRomEntry = entry;
    }

    /// <summary>Runs until power-off, reset, idleness, a stuck hart, or <paramref name="maxInstructions"/> more retired.</summary>
    public RunResult Run(ulong maxInstructions)
    {
        ulong retired = 0;
        var quantum = (ulong)_config.QuantumInstructions;
        while (!PoweredOff && !_resetRequested && retired < maxInstructions)
        {
            var hart = _harts[_current];
            if (!hart.Waiting && _retiredInTurn[_current] < quantum)
            {
                var ran = hart.Run(Math.Min(quantum - _retiredInTurn[_current], maxInstructions - retired));
                _retiredInTurn[_current] += ran;
                retired += ran;
                InstructionsRetired += ran;
                if (hart.Stuck)
                {
                    return new RunResult(StopReason.Stuck, 0, retired);
                }
                if (PoweredOff || _resetRequested || (_retiredInTurn[_current] < quantum && !hart.Waiting))
                {
                    break;
                }
            }
            // This hart's turn is over (quantum done or waiting): the next one's, or a new round.
            _current++;
            if (_current == _harts.Length)
            {
                _current = 0;
                if (!EndRound())
                {
                    return new RunResult(StopReason.Idle, 0, retired);
                }
            }
        }
        if (PoweredOff)
        {
            return new RunResult(StopReason.PoweredOff, ExitCode, retired);
        }
        if (_resetRequested)
        {
            return new RunResult(StopReason.Reset, 0, retired);
        }
        return new RunResult(StopReason.InstructionLimit, 0, retired);
    }

    /// <summary>
    /// Advances virtual time by one quantum's ticks; when every hart waits, fast-forwards to the
    /// earliest timer deadline (DESIGN.md: wfi with nothing pending skips to the next timer event).
    /// False when every hart waits and no timer can wake any of them.
    /// </summary>
    private bool EndRound()
    {
        _baseTicks += (ulong)_config.QuantumInstructions / _config.InstructionsPerTimerTick;
        if (_harts.All(h => h.Waiting))
        {
            ulong? earliest = null;
            foreach (var hart in _harts)
            {
                if (hart.NextTimerDeadline() is { } deadline && deadline > _baseTicks && (earliest is null || deadline < earliest))
                {
                    earliest = deadline;
                }
            }
            if (earliest is null && _harts.All(h => h.NextTimerDeadline() is not { } d || d > _baseTicks || !TimerCanWake(h)))
            {
                StartRound();
                return _harts.Any(h => !h.Waiting);
            }
            if (earliest is { } next)
            {
                _baseTicks = next;
            }
        }
        StartRound();
        return true;
    }

    private static bool TimerCanWake(HartType hart) => (hart.Csrs.Mie & ((1UL << 7) | (1UL << 5))) != 0;

    private void StartRound()
    {
        for (var i = 0; i < _harts.Length; i++)
        {
            _roundStartInstret[i] = _harts[i].InstructionsRetired;
            _retiredInTurn[i] = 0;
            _harts[i].UpdateTimers();
        }
    }

    // ---- snapshots (STYLE.md habit 6) ---------------------------------------------------------------

    /// <summary>
    /// The board's state and every component's, for a snapshot; call it between two <see cref="Run"/>
    /// calls (any return from <see cref="Run"/> is an instruction boundary). RAM is saved apart, frame
    /// by frame, from <see cref="SparseRam.TouchedFrames"/>.
    /// </summary>
    public BoardState Save() => new()
    {
        Harts = [.. _harts.Select(h => h.Save())],
        Clint = Clint.Save(),
        Plic = Plic.Save(),
        Uart = Uart.Save(),
        CurrentHart = _current,
        RoundStartInstret = [.. _roundStartInstret],
        RetiredInTurn = [.. _retiredInTurn],
        BaseTicks = _baseTicks,
        Tohost = _tohost,
        Fromhost = _fromhost,
        PoweredOff = PoweredOff,
        ExitCode = ExitCode,
        ResetRequested = _resetRequested,
        InstructionsRetired = InstructionsRetired,
        BootRomEntry = _bootRomEntry,
    };

    /// <summary>
    /// A new board built from <paramref name="config"/> (the one the state was saved under) that
    /// continues exactly as the saved one would have: same console output, exit, instruction counts
    /// and architectural counters, however its runs are sliced. Its RAM is empty: load the saved
    /// frames with <see cref="SparseRam.RestoreFrame"/> before running it. Caches start empty and
    /// refill as it runs; host bindings (<see cref="Uart16550.Sink"/>, <see cref="SystemBus.Monitor"/>,
    /// each hart's <see cref="HartType.Monitor"/> and <see cref="HartType.Trace"/>) are the caller's to set.
    /// </summary>
    public static VirtBoard Restore(MachineConfig config, BoardState state)
    {
        StateArrays.Require(state.Harts, config.HartCount, nameof(state.Harts));
        return new VirtBoard(config, state);
    }

    private void RestoreOwnState(BoardState state)
    {
        if (state.CurrentHart < 0 || state.CurrentHart >= _harts.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(state), state.CurrentHart, "CurrentHart is not a hart of this board");
        }
        StateArrays.CopyInto(state.RoundStartInstret, _roundStartInstret, nameof(state.RoundStartInstret));
        StateArrays.CopyInto(state.RetiredInTurn, _retiredInTurn, nameof(state.RetiredInTurn));
        _current = state.CurrentHart;
        _baseTicks = state.BaseTicks;
        _tohost = state.Tohost;
        _fromhost = state.Fromhost;
        InstructionsRetired = state.InstructionsRetired;
    }

    private void RestoreFirmwareAndPower(BoardState state)
    {
        if (state.BootRomEntry is { } entry)
        {
            InstallBootRom(entry);
        }
        PoweredOff = state.PoweredOff;
        ExitCode = state.ExitCode;
        _resetRequested = state.ResetRequested;
        if (PoweredOff || _resetRequested)
        {
            HaltHarts();
        }
    }

    // ---- platform services for harts and devices ----------------------------------------------------

    ulong Hart.IHartPlatform.Time(HartType hart) =>
        _baseTicks + ((hart.InstructionsRetired - _roundStartInstret[hart.Id]) / _config.InstructionsPerTimerTick);

    ulong Hart.IHartPlatform.InstretWhenTimeReaches(HartType hart, ulong ticks) =>
        ticks <= _baseTicks ? hart.InstructionsRetired : _roundStartInstret[hart.Id] + ((ticks - _baseTicks) * _config.InstructionsPerTimerTick);

    ulong Hart.IHartPlatform.MachineTimerCompare(HartType hart) => Clint.TimerCompare[hart.Id];

    ulong IClintPlatform.Time => _baseTicks;

    int IClintPlatform.HartCount => _harts.Length;

    void IClintPlatform.SoftwareInterrupt(int hart, bool level) => _harts[hart].SetPending(3, level);

    void IClintPlatform.TimerCompareChanged(int hart) => _harts[hart].UpdateTimers();

    public void PowerOff(int exitCode)
    {
        if (!PoweredOff)
        {
            PoweredOff = true;
            ExitCode = exitCode;
            HaltHarts();
        }
    }

    public void Reset()
    {
        _resetRequested = true;
        HaltHarts();
    }

    // A field on each hart rather than a question to the board: the run loop checks it every instruction.
    private void HaltHarts()
    {
        foreach (var hart in _harts)
        {
            hart.HaltRequested = true;
        }
    }

    /// <summary>Every RAM store: breaks other harts' LR reservations on that address, and serves HTIF.</summary>
    private void StoreObserved(ulong address)
    {
        foreach (var hart in _harts)
        {
            hart.StoreObserved(address);
        }
        if (_tohost != 0 && address == _tohost)
        {
            ServeHtif();
        }
    }

    private void ServeHtif()
    {
        var command = Bus.Ram.Read(_tohost, 8);
        if (command == 0)
        {
            return;
        }
        var device = command >> 56;
        var cmd = (command >> 48) & 0xff;
        if (device == 0 && (command & 1) != 0)
        {
            PowerOff((int)(command >> 1));
            return;
        }
        if (device == 1 && cmd == 1)
        {
            Uart.Sink?.Transmit((byte)command);
        }
        Bus.Ram.Write(_tohost, 8, 0);
        HtifWriteObserver?.Invoke(_tohost);
        if (_fromhost != 0)
        {
            Bus.Ram.Write(_fromhost, 8, (device << 56) | (cmd << 48) | 1);
            HtifWriteObserver?.Invoke(_fromhost);
        }
    }
}
