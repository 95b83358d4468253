using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Hart;

/// <summary>The hot path: executing predecoded instructions (issue 4; see <see cref="DecodedPageCache"/>).</summary>
public sealed partial class Hart
{
    /// <summary>
    /// Executes predecoded instructions from the current fetch page (the one <see cref="Fetch"/> would
    /// read from its cached frame), at most <paramref name="limit"/> (at least 1) of them, and returns
    /// how many retired. It returns as soon as the run loop's checks could see something new: the pc
    /// leaves the page or reaches its last parcel (where an instruction may straddle into the next
    /// page), a trap was taken, an access went beyond plain RAM (a device, a page walk, a store someone
    /// watches) and raised an interrupt, moved a timer, halted the board or dropped the fetch cache, or
    /// the next instruction is one the general path executes (<see cref="_slowStep"/>).
    /// <para>
    /// Retired instructions are counted in a local and added to <see cref="InstructionsRetired"/> and
    /// <see cref="HartCounters.RetiredByPrivilege"/> before anything outside the hart can look at them
    /// (a trap, a device, a monitor) and on return, so every observer sees the same counts as before.
    /// </para>
    /// </summary>
    private ulong RunPredecoded(ulong limit)
    {
        var page = _fetchDecoded!;
        var fetchPage = _fetchPage;
        var pageBase = fetchPage << 12;
        ref var slots = ref MemoryMarshal.GetArrayDataReference(page.Instructions);
        ref var x = ref MemoryMarshal.GetArrayDataReference(_x);
        var ram = _ram;
        var ramBase = ram.Base;
        var ramSize = ram.Size;
        var direct = !_paging;
        var privilege = Privilege;
        var timerCheckAt = _timerCheckAt;
        var pc = Pc;
        ulong pending = 0; // retired, not yet added to the counters
        ulong counted = 0; // retired and added
        var check = false; // the last instruction left the hot path: look for SomethingChanged
        while (true)
        {
            var offset = pc - pageBase;
            ref var d = ref Unsafe.Add(ref slots, (nint)(offset >> 1));
            if (d.Code == (byte)Operation.Undecoded)
            {
                d = DecodedInstruction.Decode(BinaryPrimitives.ReadUInt32LittleEndian(page.Frame.AsSpan((int)offset)));
            }
            var code = d.Code;
            var next = pc + 2 + (ulong)((code >> 6) & 2);
            var imm = (ulong)(long)d.Imm;
            ulong address;
            ulong value;
            switch ((Operation)(code & ~DecodedInstruction.FourBytes))
            {
                case Operation.Lui:
                    Register(ref x, d.Rd) = imm;
                    break;
                case Operation.Auipc:
                    Register(ref x, d.Rd) = pc + imm;
                    break;
                case Operation.Jal:
                    // Targets are always even here: immediates are even and IALIGN is 16 with C, so
                    // the misaligned-target exception of JAL and branches cannot arise.
                    Register(ref x, d.Rd) = next;
                    next = pc + imm;
                    break;
                case Operation.Jalr:
                    {
                        var target = (Register(ref x, d.Rs1) + imm) & ~1UL;
                        Register(ref x, d.Rd) = next;
                        next = target;
                        break;
                    }
                case Operation.Beq:
                    if (Register(ref x, d.Rs1) == Register(ref x, d.Rs2))
                    {
                        next = pc + imm;
                    }
                    break;
                case Operation.Bne:
                    if (Register(ref x, d.Rs1) != Register(ref x, d.Rs2))
                    {
                        next = pc + imm;
                    }
                    break;
                case Operation.Blt:
                    if ((long)Register(ref x, d.Rs1) < (long)Register(ref x, d.Rs2))
                    {
                        next = pc + imm;
                    }
                    break;
                case Operation.Bge:
                    if ((long)Register(ref x, d.Rs1) >= (long)Register(ref x, d.Rs2))
                    {
                        next = pc + imm;
                    }
                    break;
                case Operation.Bltu:
                    if (Register(ref x, d.Rs1) < Register(ref x, d.Rs2))
                    {
                        next = pc + imm;
                    }
                    break;
                case Operation.Bgeu:
                    if (Register(ref x, d.Rs1) >= Register(ref x, d.Rs2))
                    {
                        next = pc + imm;
                    }
                    break;
                case Operation.Lb:
                case Operation.Lbu:
                    address = Register(ref x, d.Rs1) + imm;
                    if (direct && address - ramBase < ramSize)
                    {
                        value = ram.Read(address, 1);
                    }
                    else if (SlowLoad(pc, address, 1, privilege, ref pending, ref counted, out value))
                    {
                        check = true;
                    }
                    else
                    {
                        return counted;
                    }
                    Register(ref x, d.Rd) = (code & ~DecodedInstruction.FourBytes) == (byte)Operation.Lb ? (ulong)(long)(sbyte)value : value;
                    break;
                case Operation.Lh:
                case Operation.Lhu:
                    address = Register(ref x, d.Rs1) + imm;
                    if (direct && (address & 1) == 0 && address - ramBase < ramSize)
                    {
                        value = ram.Read(address, 2);
                    }
                    else if (SlowLoad(pc, address, 2, privilege, ref pending, ref counted, out value))
                    {
                        check = true;
                    }
                    else
                    {
                        return counted;
                    }
                    Register(ref x, d.Rd) = (code & ~DecodedInstruction.FourBytes) == (byte)Operation.Lh ? (ulong)(long)(short)value : value;
                    break;
                case Operation.Lw:
                case Operation.Lwu:
                    address = Register(ref x, d.Rs1) + imm;
                    if (direct && (address & 3) == 0 && address - ramBase < ramSize)
                    {
                        value = ram.Read(address, 4);
                    }
                    else if (SlowLoad(pc, address, 4, privilege, ref pending, ref counted, out value))
                    {
                        check = true;
                    }
                    else
                    {
                        return counted;
                    }
                    Register(ref x, d.Rd) = (code & ~DecodedInstruction.FourBytes) == (byte)Operation.Lw ? (ulong)(long)(int)value : value;
                    break;
                case Operation.Ld:
                    address = Register(ref x, d.Rs1) + imm;
                    if (direct && (address & 7) == 0 && address - ramBase < ramSize)
                    {
                        value = ram.Read(address, 8);
                    }
                    else if (SlowLoad(pc, address, 8, privilege, ref pending, ref counted, out value))
                    {
                        check = true;
                    }
                    else
                    {
                        return counted;
                    }
                    Register(ref x, d.Rd) = value;
                    break;
                case Operation.Sb:
                case Operation.Sh:
                case Operation.Sw:
                case Operation.Sd:
                    {
                        var size = 1 << ((code & ~DecodedInstruction.FourBytes) - (byte)Operation.Sb);
                        address = Register(ref x, d.Rs1) + imm;
                        value = Register(ref x, d.Rs2);
                        if (direct && (address & (ulong)(size - 1)) == 0 && address - ramBase < ramSize && !_bus.RamStoresObserved)
                        {
                            // Plain RAM nobody watches: what Store and SystemBus.Write would do, minus the
                            // checks. SparseRam.Write drops decoded records the store overlaps, including
                            // this page's: the slot is re-read for every instruction.
                            ram.Write(address, size, value);
                            if ((_reservation & ~7UL) == (address & ~7UL))
                            {
                                _reservation = NoReservation;
                            }
                            break;
                        }
                        Pc = pc;
                        Retire(pending, privilege);
                        counted += pending;
                        pending = 0;
                        if (!Store(address, size, value))
                        {
                            return counted;
                        }
                        check = true;
                        break;
                    }
                case Operation.Addi:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) + imm;
                    break;
                case Operation.Slti:
                    Register(ref x, d.Rd) = (long)Register(ref x, d.Rs1) < (long)imm ? 1UL : 0;
                    break;
                case Operation.Sltiu:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) < imm ? 1UL : 0;
                    break;
                case Operation.Xori:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) ^ imm;
                    break;
                case Operation.Ori:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) | imm;
                    break;
                case Operation.Andi:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) & imm;
                    break;
                case Operation.Slli:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) << d.Imm;
                    break;
                case Operation.Srli:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) >> d.Imm;
                    break;
                case Operation.Srai:
                    Register(ref x, d.Rd) = (ulong)((long)Register(ref x, d.Rs1) >> d.Imm);
                    break;
                case Operation.Addiw:
                    Register(ref x, d.Rd) = SignExtend32((uint)Register(ref x, d.Rs1) + (uint)d.Imm);
                    break;
                case Operation.Slliw:
                    Register(ref x, d.Rd) = SignExtend32((uint)Register(ref x, d.Rs1) << d.Imm);
                    break;
                case Operation.Srliw:
                    Register(ref x, d.Rd) = SignExtend32((uint)Register(ref x, d.Rs1) >> d.Imm);
                    break;
                case Operation.Sraiw:
                    Register(ref x, d.Rd) = (ulong)(long)((int)Register(ref x, d.Rs1) >> d.Imm);
                    break;
                case Operation.Add:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) + Register(ref x, d.Rs2);
                    break;
                case Operation.Sub:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) - Register(ref x, d.Rs2);
                    break;
                case Operation.Sll:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) << (int)(Register(ref x, d.Rs2) & 63);
                    break;
                case Operation.Slt:
                    Register(ref x, d.Rd) = (long)Register(ref x, d.Rs1) < (long)Register(ref x, d.Rs2) ? 1UL : 0;
                    break;
                case Operation.Sltu:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) < Register(ref x, d.Rs2) ? 1UL : 0;
                    break;
                case Operation.Xor:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) ^ Register(ref x, d.Rs2);
                    break;
                case Operation.Srl:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) >> (int)(Register(ref x, d.Rs2) & 63);
                    break;
                case Operation.Sra:
                    Register(ref x, d.Rd) = (ulong)((long)Register(ref x, d.Rs1) >> (int)(Register(ref x, d.Rs2) & 63));
                    break;
                case Operation.Or:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) | Register(ref x, d.Rs2);
                    break;
                case Operation.And:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) & Register(ref x, d.Rs2);
                    break;
                case Operation.Addw:
                    Register(ref x, d.Rd) = SignExtend32((uint)Register(ref x, d.Rs1) + (uint)Register(ref x, d.Rs2));
                    break;
                case Operation.Subw:
                    Register(ref x, d.Rd) = SignExtend32((uint)Register(ref x, d.Rs1) - (uint)Register(ref x, d.Rs2));
                    break;
                case Operation.Sllw:
                    Register(ref x, d.Rd) = SignExtend32((uint)Register(ref x, d.Rs1) << (int)(Register(ref x, d.Rs2) & 31));
                    break;
                case Operation.Srlw:
                    Register(ref x, d.Rd) = SignExtend32((uint)Register(ref x, d.Rs1) >> (int)(Register(ref x, d.Rs2) & 31));
                    break;
                case Operation.Sraw:
                    Register(ref x, d.Rd) = (ulong)(long)((int)Register(ref x, d.Rs1) >> (int)(Register(ref x, d.Rs2) & 31));
                    break;
                case Operation.Mul:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) * Register(ref x, d.Rs2);
                    break;
                case Operation.Mulh:
                case Operation.Mulhsu:
                case Operation.Mulhu:
                case Operation.Div:
                case Operation.Divu:
                case Operation.Rem:
                case Operation.Remu:
                    // funct3 of MUL..REMU is their order in Operation (unprivileged spec chapter 7).
                    Register(ref x, d.Rd) = MulDiv((uint)((code & ~DecodedInstruction.FourBytes) - (byte)Operation.Mul), Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Mulw:
                    Register(ref x, d.Rd) = SignExtend32((uint)Register(ref x, d.Rs1) * (uint)Register(ref x, d.Rs2));
                    break;
                case Operation.Divw:
                    Register(ref x, d.Rd) = MulDivWord(4, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Divuw:
                    Register(ref x, d.Rd) = MulDivWord(5, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Remw:
                    Register(ref x, d.Rd) = MulDivWord(6, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Remuw:
                    Register(ref x, d.Rd) = MulDivWord(7, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Fence:
                    break;
                default: // SlowPath: the general path decodes it again and executes it, traps and all.
                    _slowStep = true;
                    goto Return;
            }
            pc = next;
            pending++;
            if (check)
            {
                check = false;
                if (SomethingChanged(fetchPage, timerCheckAt))
                {
                    goto Return;
                }
            }
            if (pending + counted >= limit || pc - pageBase > 0xffc)
            {
                goto Return;
            }
        }
    Return:
        Pc = pc;
        Retire(pending, privilege);
        return counted + pending;
    }

    /// <summary>Registers by index without a bounds check: decoded indexes are 0..31, or <see cref="ZeroSink"/> for rd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref ulong Register(ref ulong x, byte index) => ref Unsafe.Add(ref x, index);

    /// <summary>Adds instructions the hot path retired at <paramref name="privilege"/> to the counters, as the run loop does one by one.</summary>
    private void Retire(ulong count, PrivilegeLevel privilege)
    {
        if (count != 0)
        {
            InstructionsRetired += count;
            Counters.RetiredByPrivilege[(int)privilege] += count;
            _trapsWithoutProgress = 0;
        }
    }

    /// <summary>
    /// A load the hot path cannot do on its own (translation on, misaligned, not RAM): the general
    /// <see cref="Load"/>, with the counters and pc brought up to date first, since it may trap, walk
    /// page tables or reach a device. False when it trapped.
    /// </summary>
    private bool SlowLoad(ulong pc, ulong address, int size, PrivilegeLevel privilege, ref ulong pending, ref ulong counted, out ulong value)
    {
        Pc = pc;
        Retire(pending, privilege);
        counted += pending;
        pending = 0;
        return Load(address, size, out value);
    }

    /// <summary>
    /// After an access that left the hot path: whether the run loop must look again before the next
    /// instruction (an interrupt became ready, the board halted, a timer compare moved, or the fetch
    /// cache was dropped, so the next fetch translates as it did before predecoding).
    /// </summary>
    private bool SomethingChanged(ulong fetchPage, ulong timerCheckAt) =>
        _interruptReady || HaltRequested || _timerCheckAt != timerCheckAt || _fetchPage != fetchPage;

    /// <summary>
    /// FENCE.I (unprivileged spec chapter 3, "Zifencei"): later fetches must see earlier stores. Stores
    /// already drop the records they overlap (<see cref="DecodedPageCache"/>), so this is the
    /// instruction-cache flush the chapter describes: every decoded page of this hart is dropped.
    /// The current fetch page stays the fetch page (the fetch itself did not change, and its
    /// translation and TLB counts must not either); its records are decoded again.
    /// </summary>
    private void FenceInstruction()
    {
        var current = _fetchDecoded;
        var frameNumber = current?.FrameNumber ?? DecodedPage.NoFrame;
        _decodedPages.DropAll();
        if (current is not null && frameNumber != DecodedPage.NoFrame)
        {
            _fetchDecoded = _decodedPages.Get(frameNumber, current.Frame);
        }
    }
}
