using VirtApi.Machine.Bus;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Memory;
using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Hart;

/// <summary>What a hart needs from its board: virtual time and the CLINT's compare register.</summary>
public interface IHartPlatform
{
    /// <summary>Virtual time (<c>mtime</c>) as <paramref name="hart"/> sees it now.</summary>
    ulong Time(Hart hart);

    /// <summary>The retired-instruction count of <paramref name="hart"/> at which time reaches <paramref name="ticks"/>.</summary>
    ulong InstretWhenTimeReaches(Hart hart, ulong ticks);

    /// <summary>The CLINT's <c>mtimecmp</c> for <paramref name="hart"/>.</summary>
    ulong MachineTimerCompare(Hart hart);
}

/// <summary>
/// One RV64IMA hart with Zicsr and Zifencei, M, S and U modes (unprivileged spec 20191213, privileged
/// spec 1.12). Instructions from RAM pages are decoded once and executed from their decoded records
/// (<see cref="DecodedPageCache"/>, Hart.Predecoded.cs); anything else is decoded as it is fetched. Guest
/// traps are values handled in <see cref="TakeTrap"/>, never .NET exceptions; the run loop allocates
/// nothing (a decoded page is allocated once, the first time its cache slot is used).
/// </summary>
public sealed partial class Hart : IInterruptPins, ICsrHost
{
    /// <summary>Where decoded instructions write x0: a 33rd register nobody reads (x0 reads as zero from slot 0).</summary>
    internal const byte ZeroSink = 32;

    private readonly ulong[] _x = new ulong[ZeroSink + 1];
    private readonly SystemBus _bus;
    private readonly SparseRam _ram;
    private readonly IHartPlatform _platform;
    private ulong _reservation = NoReservation;
    private const ulong NoReservation = ulong.MaxValue;

    // Traps taken since the last retired instruction: a guest whose every fetch or instruction traps
    // (no handler installed) makes no progress; the board reports it instead of spinning for ever.
    private ulong _trapsWithoutProgress;

    public Hart(int id, SystemBus bus, IHartPlatform platform)
    {
        Id = id;
        _bus = bus;
        _ram = bus.Ram;
        _platform = platform;
        Csrs = new CsrFile(id);
        _decodedPages = new DecodedPageCache(_ram);
    }

    public int Id { get; }

    public ulong Pc { get; set; }

    public PrivilegeLevel Privilege { get; private set; } = PrivilegeLevel.Machine;

    /// <summary>In <c>wfi</c>: the hart retires nothing until an enabled interrupt is pending (mip &amp; mie).</summary>
    public bool Waiting { get; private set; }

    /// <summary>Retired instructions (<c>minstret</c>).</summary>
    public ulong InstructionsRetired { get; private set; }

    public CsrFile Csrs { get; }

    public HartCounters Counters { get; } = new();

    /// <summary>The hypervisor watching this hart, if any (trap entry, page walks).</summary>
    public IHartMonitor? Monitor { get; set; }

    /// <summary>When set, called after every retired instruction (the CLI's --trace); slow path.</summary>
    public Action<Hart, ulong, uint, PrivilegeLevel>? Trace { get; set; }

    /// <summary>Set by the board when the guest powered off or asked for a reset: the hart stops after the current instruction.</summary>
    internal bool HaltRequested { get; set; }

    /// <summary>True when traps keep coming with no instruction retired in between.</summary>
    public bool Stuck => _trapsWithoutProgress >= StuckTrapLimit;

    /// <summary>The last trap taken (for the stuck report).</summary>
    public (ulong Cause, ulong Tval, ulong Pc) LastTrap { get; private set; }

    private const ulong StuckTrapLimit = 10_000;

    public ulong this[int register]
    {
        get => _x[register];
        set
        {
            if (register != 0)
            {
                _x[register] = value;
            }
        }
    }

    /// <summary>
    /// Runs until <paramref name="budget"/> instructions have retired, the hart waits in <c>wfi</c>, it is
    /// stuck in a trap loop, or the board halted. Returns the instructions retired.
    /// </summary>
    public ulong Run(ulong budget)
    {
        ulong retired = 0;
        while (retired < budget && !HaltRequested)
        {
            if (_timerCheckAt <= InstructionsRetired)
            {
                UpdateTimers();
            }
            if (_interruptReady && TakePendingInterrupt())
            {
                continue;
            }
            if (Waiting)
            {
                break;
            }
            var pc = Pc;
            // On another page than the fetch cache's: take it from the fetch translations (counting
            // the TLB hits the fetch below would count), so the hot path goes on there.
            if ((pc >> 12) != _fetchPage && !_slowStep && Trace is null)
            {
                SwitchFetchPage(pc);
            }
            // The hot path: a run of predecoded instructions from the page the hart fetches from,
            // exactly where the fetch below would have used its cached frame (so translations and TLB
            // counts are those of that fetch), up to the budget and the next timer check. It returns
            // at anything the checks above must see; the slow step then takes what it left.
            if (!_slowStep && (pc >> 12) == _fetchPage && (pc & 0xfff) <= 0xffc && (pc & 1) == 0 && Trace is null)
            {
                // At least one instruction: when the timer check is already due (a compare value in
                // the past), the loop above checks again after every instruction, as it always has.
                var timerDue = _timerCheckAt > InstructionsRetired ? _timerCheckAt - InstructionsRetired : 1;
                retired += RunPredecoded(Math.Min(budget - retired, timerDue)) + TakeCompletedByMonitor();
                continue;
            }
            _slowStep = false;
            if ((pc & 1) != 0)
            {
                RaiseException(ExceptionCause.InstructionAddressMisaligned, pc);
            }
            else if (Fetch(pc, out var instruction))
            {
                var privilege = Privilege;
                if (Execute(instruction, pc))
                {
                    Counters.RetiredByPrivilege[(int)privilege]++;
                    InstructionsRetired++;
                    retired++;
                    _trapsWithoutProgress = 0;
                    Trace?.Invoke(this, pc, _rawInstruction, privilege);
                }
                else
                {
                    retired += TakeCompletedByMonitor();
                }
            }
            if (_trapsWithoutProgress >= StuckTrapLimit)
            {
                break;
            }
        }
        return retired;
    }

    // Fetch cache: the RAM frame of the page the hart last fetched from, by virtual page. Stores write
    // the same array, so code changes are seen at once; it is dropped whenever translation may change
    // (privilege change, satp write, sfence.vma) and never holds an unwritten (all-zero) frame.
    private byte[]? _fetchFrame;

    // The decoded instructions of _fetchFrame's page (null while _fetchFrame is), and this hart's cache of decoded pages.
    private DecodedPage? _fetchDecoded;
    private readonly DecodedPageCache _decodedPages;

    // Set by the hot path when the next instruction is one it leaves to the general fetch-and-execute path.
    private bool _slowStep;

    // The length (2 or 4) and the bits as fetched of the instruction being executed.
    private ulong _length = 4;
    private uint _rawInstruction;
    private ulong _fetchPage = ulong.MaxValue;

    internal void DropFetchCache()
    {
        _fetchFrame = null;
        _fetchDecoded = null;
        _fetchPage = ulong.MaxValue;
    }

    /// <summary>
    /// Fetches the instruction at <paramref name="pc"/>: a 16-bit parcel, and its second half when the
    /// low bits say it is a 32-bit instruction (which may straddle a page). Compressed instructions are
    /// expanded to their 32-bit form; <see cref="_length"/> says which it was. False when a fault was raised.
    /// </summary>
    private bool Fetch(ulong pc, out uint instruction)
    {
        instruction = 0;
        var offset = (int)(pc & 0xfff);
        if ((pc >> 12) == _fetchPage && offset <= 0xffc)
        {
            instruction = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_fetchFrame.AsSpan(offset));
        }
        else
        {
            if (!FetchParcel(pc, out var low))
            {
                return false;
            }
            instruction = low;
            if ((low & 3) == 3)
            {
                if (!FetchParcel(pc + 2, out var high))
                {
                    return false;
                }
                instruction |= high << 16;
            }
        }
        if ((instruction & 3) != 3)
        {
            _length = 2;
            _rawInstruction = instruction & 0xffff;
            instruction = CompressedExpander.Expand(_rawInstruction);
            if (instruction == 0)
            {
                return RaiseException(ExceptionCause.IllegalInstruction, _rawInstruction);
            }
            return true;
        }
        _length = 4;
        _rawInstruction = instruction;
        return true;
    }

    /// <summary>One 16-bit instruction parcel, translated; refreshes the fetch cache for its page.</summary>
    private bool FetchParcel(ulong pc, out uint parcel)
    {
        parcel = 0;
        var physical = pc;
        if (_paging && !Translate(pc, AccessType.Fetch, out physical))
        {
            return false;
        }
        if (_ram.Contains(physical, 2))
        {
            parcel = (uint)_ram.Read(physical, 2);
            if (_ram.FrameAt(physical) is { } frame)
            {
                _fetchFrame = frame;
                _fetchDecoded = _decodedPages.Get((physical - _ram.Base) >> SparseRam.FrameShift, frame);
                _fetchPage = pc >> 12;
            }
            return true;
        }
        if (_bus.Read(physical, 2, out var value))
        {
            parcel = (uint)(value & 0xffff);
            return true;
        }
        return RaiseException(ExceptionCause.InstructionAccessFault, pc);
    }

    /// <summary>Executes one instruction; false when it trapped (it then did not retire).</summary>
    private bool Execute(uint inst, ulong pc)
    {
        var rd = (int)((inst >> 7) & 0x1f);
        var rs1 = (int)((inst >> 15) & 0x1f);
        var rs2 = (int)((inst >> 20) & 0x1f);
        var funct3 = (inst >> 12) & 7;
        var funct7 = inst >> 25;
        var a = _x[rs1];
        var b = _x[rs2];
        var next = pc + _length;
        ulong result;
        switch (inst & 0x7f)
        {
            case 0x37: // LUI
                result = (ulong)(long)(int)(inst & 0xfffff000);
                break;
            case 0x17: // AUIPC
                result = pc + (ulong)(long)(int)(inst & 0xfffff000);
                break;
            case 0x6f: // JAL
                {
                    var target = pc + (ulong)ImmJ(inst);
                    if ((target & 1) != 0)
                    {
                        return RaiseException(ExceptionCause.InstructionAddressMisaligned, target);
                    }
                    result = next;
                    next = target;
                    break;
                }
            case 0x67: // JALR
                {
                    if (funct3 != 0)
                    {
                        return Illegal(inst);
                    }
                    // JALR clears bit 0, and with C (IALIGN = 16) every even address is a legal target.
                    var target = (a + (ulong)ImmI(inst)) & ~1UL;
                    result = next;
                    next = target;
                    break;
                }
            case 0x63: // BRANCH
                {
                    bool taken;
                    switch (funct3)
                    {
                        case 0: taken = a == b; break;
                        case 1: taken = a != b; break;
                        case 4: taken = (long)a < (long)b; break;
                        case 5: taken = (long)a >= (long)b; break;
                        case 6: taken = a < b; break;
                        case 7: taken = a >= b; break;
                        default: return Illegal(inst);
                    }
                    if (taken)
                    {
                        var target = pc + (ulong)ImmB(inst);
                        if ((target & 1) != 0)
                        {
                            return RaiseException(ExceptionCause.InstructionAddressMisaligned, target);
                        }
                        next = target;
                    }
                    Pc = next;
                    return true;
                }
            case 0x03: // LOAD
                {
                    var address = a + (ulong)ImmI(inst);
                    int size;
                    switch (funct3)
                    {
                        case 0 or 4: size = 1; break;
                        case 1 or 5: size = 2; break;
                        case 2 or 6: size = 4; break;
                        case 3: size = 8; break;
                        default: return Illegal(inst);
                    }
                    if (!Load(address, size, out var value))
                    {
                        return false;
                    }
                    result = funct3 switch
                    {
                        0 => (ulong)(long)(sbyte)value,
                        1 => (ulong)(long)(short)value,
                        2 => (ulong)(long)(int)value,
                        _ => value,
                    };
                    break;
                }
            case 0x23: // STORE
                {
                    if (funct3 > 3)
                    {
                        return Illegal(inst);
                    }
                    var address = a + (ulong)ImmS(inst);
                    if (!Store(address, 1 << (int)funct3, b))
                    {
                        return false;
                    }
                    Pc = next;
                    return true;
                }
            case 0x13: // OP-IMM
                {
                    var imm = (ulong)ImmI(inst);
                    var shamt = (int)((inst >> 20) & 0x3f);
                    switch (funct3)
                    {
                        case 0: result = a + imm; break;
                        case 2: result = (long)a < (long)imm ? 1UL : 0; break;
                        case 3: result = a < imm ? 1UL : 0; break;
                        case 4: result = a ^ imm; break;
                        case 6: result = a | imm; break;
                        case 7: result = a & imm; break;
                        case 1:
                            if ((inst >> 26) != 0)
                            {
                                return Illegal(inst);
                            }
                            result = a << shamt;
                            break;
                        default: // 5
                            result = (inst >> 26) switch
                            {
                                0x00 => a >> shamt,
                                0x10 => (ulong)((long)a >> shamt),
                                _ => ulong.MaxValue,
                            };
                            if ((inst >> 26) is not (0x00 or 0x10))
                            {
                                return Illegal(inst);
                            }
                            break;
                    }
                    break;
                }
            case 0x1b: // OP-IMM-32
                {
                    var shamt = (int)((inst >> 20) & 0x1f);
                    switch (funct3)
                    {
                        case 0: result = SignExtend32((uint)a + (uint)ImmI(inst)); break;
                        case 1 when funct7 == 0: result = SignExtend32((uint)a << shamt); break;
                        case 5 when funct7 == 0: result = SignExtend32((uint)a >> shamt); break;
                        case 5 when funct7 == 0x20: result = (ulong)(long)((int)a >> shamt); break;
                        default: return Illegal(inst);
                    }
                    break;
                }
            case 0x33: // OP
                if (funct7 == 1)
                {
                    result = MulDiv(funct3, a, b);
                    break;
                }
                switch ((funct7 << 3) | funct3)
                {
                    case 0x000: result = a + b; break;
                    case 0x100: result = a - b; break;
                    case 0x001: result = a << (int)(b & 63); break;
                    case 0x002: result = (long)a < (long)b ? 1UL : 0; break;
                    case 0x003: result = a < b ? 1UL : 0; break;
                    case 0x004: result = a ^ b; break;
                    case 0x005: result = a >> (int)(b & 63); break;
                    case 0x105: result = (ulong)((long)a >> (int)(b & 63)); break;
                    case 0x006: result = a | b; break;
                    case 0x007: result = a & b; break;
                    default: return Illegal(inst);
                }
                break;
            case 0x3b: // OP-32
                if (funct7 == 1)
                {
                    if (funct3 is 1 or 2 or 3)
                    {
                        return Illegal(inst);
                    }
                    result = MulDivWord(funct3, a, b);
                    break;
                }
                switch ((funct7 << 3) | funct3)
                {
                    case 0x000: result = SignExtend32((uint)a + (uint)b); break;
                    case 0x100: result = SignExtend32((uint)a - (uint)b); break;
                    case 0x001: result = SignExtend32((uint)a << (int)(b & 31)); break;
                    case 0x005: result = SignExtend32((uint)a >> (int)(b & 31)); break;
                    case 0x105: result = (ulong)(long)((int)a >> (int)(b & 31)); break;
                    default: return Illegal(inst);
                }
                break;
            case 0x2f: // AMO
                return ExecuteAtomic(inst, rd, a, b, next);
            case 0x0f: // MISC-MEM: FENCE, FENCE.I (one hart's view of memory is always ordered here)
                if (funct3 > 1)
                {
                    return Illegal(inst);
                }
                if (funct3 == 1)
                {
                    FenceInstruction();
                }
                Pc = next;
                return true;
            case 0x73: // SYSTEM
                return ExecuteSystem(inst, rd, rs1, funct3, pc);
            default:
                return Illegal(inst);
        }
        if (rd != 0)
        {
            _x[rd] = result;
        }
        Pc = next;
        return true;
    }

    /// <summary>
    /// M extension, 64-bit (unprivileged spec chapter 7): division by zero and overflow have defined
    /// results. Inlined, so a constant <paramref name="funct3"/> leaves one case (the hot loop's).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong MulDiv(uint funct3, ulong a, ulong b) => funct3 switch
    {
        0 => a * b,
        // Signed operands from the unsigned product's high half: a negative a is a_u - 2^64, which
        // takes b off the high half (and a negative b takes a off).
        1 => Math.BigMul(a, b, out _) - ((long)a < 0 ? b : 0) - ((long)b < 0 ? a : 0),
        2 => Math.BigMul(a, b, out _) - ((long)a < 0 ? b : 0),
        3 => Math.BigMul(a, b, out _),
        4 => b == 0 ? ulong.MaxValue : (long)a == long.MinValue && (long)b == -1 ? a : (ulong)((long)a / (long)b),
        5 => b == 0 ? ulong.MaxValue : a / b,
        6 => b == 0 ? a : (long)a == long.MinValue && (long)b == -1 ? 0 : (ulong)((long)a % (long)b),
        _ => b == 0 ? a : a % b,
    };

    /// <summary>M extension W forms: operate on the low 32 bits, sign-extend the 32-bit result.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong MulDivWord(uint funct3, ulong a, ulong b)
    {
        var x = (int)a;
        var y = (int)b;
        return funct3 switch
        {
            0 => (ulong)(long)(x * y),
            4 => y == 0 ? ulong.MaxValue : x == int.MinValue && y == -1 ? (ulong)(long)x : (ulong)(long)(x / y),
            5 => (uint)y == 0 ? ulong.MaxValue : SignExtend32((uint)x / (uint)y),
            6 => y == 0 ? (ulong)(long)x : x == int.MinValue && y == -1 ? 0 : (ulong)(long)(x % y),
            _ => (uint)y == 0 ? (ulong)(long)x : SignExtend32((uint)x % (uint)y),
        };
    }

    /// <summary>A extension (chapter 8): LR/SC with a reservation other harts' stores break, and AMOs.</summary>
    private bool ExecuteAtomic(uint inst, int rd, ulong address, ulong b, ulong next)
    {
        var funct3 = (inst >> 12) & 7;
        if (funct3 is not (2 or 3))
        {
            return Illegal(inst);
        }
        var size = funct3 == 2 ? 4 : 8;
        var funct5 = inst >> 27;
        if ((address & (ulong)(size - 1)) != 0)
        {
            // Misaligned LR is a load fault; SC and AMOs raise store/AMO faults (privileged spec 3.6.3.x).
            return RaiseException(funct5 == 0x02 ? ExceptionCause.LoadAddressMisaligned : ExceptionCause.StoreAddressMisaligned, address);
        }
        ulong result;
        switch (funct5)
        {
            case 0x02: // LR
                {
                    // Reservations are kept by physical address, the address other harts' stores are seen by.
                    if (!TranslateData(address, AccessType.Load, out var physical))
                    {
                        return false;
                    }
                    if (!_ram.Contains(physical, size))
                    {
                        return RaiseException(ExceptionCause.LoadAccessFault, address);
                    }
                    var loaded = _ram.Read(physical, size);
                    result = size == 4 ? (ulong)(long)(int)loaded : loaded;
                    _reservation = physical;
                    break;
                }
            case 0x03: // SC
                {
                    if (!TranslateData(address, AccessType.Store, out var physical))
                    {
                        return false;
                    }
                    if (_reservation == physical)
                    {
                        if (!_bus.Write(physical, size, b))
                        {
                            return RaiseException(ExceptionCause.StoreAccessFault, address);
                        }
                        result = 0;
                    }
                    else
                    {
                        result = 1;
                    }
                    _reservation = NoReservation;
                    break;
                }
            default:
                {
                    var virtualAddress = address;
                    if (!TranslateData(virtualAddress, AccessType.Store, out address))
                    {
                        return false;
                    }
                    if (!_ram.Contains(address, size))
                    {
                        // AMOs to devices are not supported by this board: an access fault, as on a bus without AMO support.
                        return RaiseException(ExceptionCause.StoreAccessFault, virtualAddress);
                    }
                    var old = _ram.Read(address, size);
                    var oldSigned = size == 4 ? (ulong)(long)(int)old : old;
                    var operand = size == 4 ? (ulong)(long)(int)b : b;
                    ulong value = funct5 switch
                    {
                        0x01 => operand,
                        0x00 => oldSigned + operand,
                        0x04 => oldSigned ^ operand,
                        0x0c => oldSigned & operand,
                        0x08 => oldSigned | operand,
                        0x10 => (long)oldSigned < (long)operand ? oldSigned : operand,
                        0x14 => (long)oldSigned > (long)operand ? oldSigned : operand,
                        0x18 => Unsigned(oldSigned, size) < Unsigned(operand, size) ? oldSigned : operand,
                        0x1c => Unsigned(oldSigned, size) > Unsigned(operand, size) ? oldSigned : operand,
                        _ => ulong.MaxValue,
                    };
                    if (funct5 is not (0x01 or 0x00 or 0x04 or 0x0c or 0x08 or 0x10 or 0x14 or 0x18 or 0x1c))
                    {
                        return Illegal(inst);
                    }
                    _bus.Write(address, size, value);
                    result = oldSigned;
                    break;
                }
        }
        if (rd != 0)
        {
            _x[rd] = result;
        }
        Pc = next;
        return true;
    }

    private static ulong Unsigned(ulong value, int size) => size == 4 ? (uint)value : value;

    /// <summary>
    /// Breaks this hart's reservation when any hart (this one included) stores to its granule
    /// (chapter 8.2). Inlined: the hot loop's stores call it too.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void StoreObserved(ulong address)
    {
        if ((_reservation & ~7UL) == (address & ~7UL))
        {
            _reservation = NoReservation;
        }
    }

    /// <summary>The physical address of a data access (identity when translation is off); false after a fault.</summary>
    private bool TranslateData(ulong virtualAddress, AccessType access, out ulong physical)
    {
        physical = virtualAddress;
        return !_paging || Translate(virtualAddress, access, out physical);
    }

    private bool Load(ulong virtualAddress, int size, out ulong value)
    {
        value = 0;
        if ((virtualAddress & (ulong)(size - 1)) != 0)
        {
            return RaiseException(ExceptionCause.LoadAddressMisaligned, virtualAddress);
        }
        if (!TranslateData(virtualAddress, AccessType.Load, out var address))
        {
            return false;
        }
        if (_ram.Contains(address, size))
        {
            value = _ram.Read(address, size);
            return true;
        }
        if (_bus.Read(address, size, out value))
        {
            return true;
        }
        return RaiseException(ExceptionCause.LoadAccessFault, virtualAddress);
    }

    private bool Store(ulong virtualAddress, int size, ulong value)
    {
        if ((virtualAddress & (ulong)(size - 1)) != 0)
        {
            return RaiseException(ExceptionCause.StoreAddressMisaligned, virtualAddress);
        }
        if (!TranslateData(virtualAddress, AccessType.Store, out var address))
        {
            return false;
        }
        if (_bus.Write(address, size, value))
        {
            // A store by this hart into its own reservation granule also ends the reservation:
            // the spec allows the SC to fail (A extension 8.2), and QEMU's does.
            StoreObserved(address);
            return true;
        }
        return RaiseException(ExceptionCause.StoreAccessFault, virtualAddress);
    }

    // mtval holds the instruction bits as fetched: 16 of them for a compressed instruction (section 3.1.16).
    private bool Illegal(uint inst) => RaiseException(ExceptionCause.IllegalInstruction, _length == 2 ? _rawInstruction : inst);

    private static ulong SignExtend32(uint value) => (ulong)(long)(int)value;

    internal static long ImmI(uint inst) => (int)inst >> 20;

    internal static long ImmS(uint inst) => ((int)inst >> 25 << 5) | (int)((inst >> 7) & 0x1f);

    internal static long ImmB(uint inst) =>
        ((int)inst >> 31 << 12) | (int)(((inst >> 7) & 1) << 11) | (int)(((inst >> 25) & 0x3f) << 5) | (int)(((inst >> 8) & 0xf) << 1);

    internal static long ImmJ(uint inst) =>
        ((int)inst >> 31 << 20) | (int)(inst & 0xff000) | (int)(((inst >> 20) & 1) << 11) | (int)(((inst >> 21) & 0x3ff) << 1);
}
