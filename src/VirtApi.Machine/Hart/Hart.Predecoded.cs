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
    /// The work is split so the loop that runs almost every instruction, <see cref="ExecuteDecoded"/>,
    /// calls nothing (calls cost it registers: its pc and count would live on the stack); what needs a
    /// call (decoding a record, an access through <see cref="Load"/> or <see cref="Store"/>) returns to
    /// this method, which does it and goes back in. Retired instructions are added to
    /// <see cref="InstructionsRetired"/> and <see cref="HartCounters.RetiredByPrivilege"/> before
    /// anything outside the hart can look at them (a trap, a device, a monitor) and on return, so every
    /// observer sees the same counts as when the run loop counted them one by one.
    /// </para>
    /// </summary>
    private ulong RunPredecoded(ulong limit)
    {
        var page = _fetchDecoded!;
        var fetchPage = _fetchPage;
        var privilege = Privilege;
        var timerCheckAt = _timerCheckAt;
        ulong retired = 0;
        ulong counted = 0;
        while (true)
        {
            retired += _paging ? ExecuteDecoded<Translated>(limit - retired, out var exit) : ExecuteDecoded<Untranslated>(limit - retired, out exit);
            var offset = (int)(Pc - (fetchPage << 12));
            switch (exit)
            {
                case DecodedExit.Undecoded:
                    page.Instructions[offset >> 1] = DecodedInstruction.Decode(BinaryPrimitives.ReadUInt32LittleEndian(page.Frame.AsSpan(offset)));
                    continue;
                case DecodedExit.Access:
                    counted = Retire(retired, counted, privilege);
                    if (!ExecuteAccess(page.Instructions[offset >> 1]))
                    {
                        return retired;
                    }
                    retired++;
                    if (retired < limit && Pc - (fetchPage << 12) <= 0xffc && !SomethingChanged(fetchPage, timerCheckAt))
                    {
                        continue;
                    }
                    break;
                case DecodedExit.SlowStep:
                    _slowStep = true;
                    break;
            }
            Retire(retired, counted, privilege);
            return retired;
        }
    }

    /// <summary>Why <see cref="ExecuteDecoded"/> returned.</summary>
    private enum DecodedExit
    {
        /// <summary>The limit, the end of the page, or a jump off it.</summary>
        Stop,

        /// <summary>The record at <see cref="Pc"/> is to be decoded.</summary>
        Undecoded,

        /// <summary>The load or store at <see cref="Pc"/> needs <see cref="Load"/> or <see cref="Store"/>.</summary>
        Access,

        /// <summary>The instruction at <see cref="Pc"/> is executed by the general path.</summary>
        SlowStep,
    }

    /// <summary>
    /// The hot loop: runs decoded records from <see cref="Pc"/> on the current fetch page until
    /// <paramref name="limit"/> (at least 1) retired or <paramref name="exit"/> says why not; leaves
    /// <see cref="Pc"/> at the next instruction and returns how many retired. Calls nothing.
    /// </summary>
    private ulong ExecuteDecoded<TTranslation>(ulong limit, out DecodedExit exit)
        where TTranslation : struct, IDataTranslation
    {
        var pageBase = _fetchPage << 12;
        ref var slots = ref MemoryMarshal.GetArrayDataReference(_fetchDecoded!.Instructions);
        ref var x = ref MemoryMarshal.GetArrayDataReference(_x);
        var ram = _ram;
        var ramBase = ram.Base;
        // The accesses done here rather than by Load and Store: aligned, to RAM, and for stores only
        // when nobody watches RAM stores and the frame holds no decoded code (a store there drops
        // records, in SparseRam.Write). Without translation, addresses below the limit past the RAM
        // base (a limit of 0 sends all to Load/Store); with it, pages the translation caches remember
        // (Hart.TranslationCache.cs), each such access counting the TLB hit Translate would count. An
        // epoch of 0 matches no remembered page, and sends all stores to Store.
        ref var loads = ref MemoryMarshal.GetArrayDataReference(_loadTranslations);
        ref var stores = ref MemoryMarshal.GetArrayDataReference(_storeTranslations);
        var observed = _bus.RamStoresObserved;
        var loadEpoch = _context.Epoch;
        var storeEpoch = observed ? 0 : loadEpoch;
        var loadLimit = ram.Size;
        var storeLimit = observed ? 0 : ram.Size;
        ulong hits = 0;
        var pc = Pc;
        var remaining = limit;
        ulong value;
        while (true)
        {
            ref var d = ref Unsafe.Add(ref slots, (nint)((pc - pageBase) >> 1));
            var code = d.Code;
            switch ((Operation)(code & ~DecodedInstruction.FourBytes))
            {
                case Operation.Undecoded:
                    exit = DecodedExit.Undecoded;
                    goto Return;
                case Operation.Lui:
                    Register(ref x, d.Rd) = (ulong)(long)d.Imm;
                    break;
                case Operation.Auipc:
                    Register(ref x, d.Rd) = pc + (ulong)(long)d.Imm;
                    break;
                case Operation.Jal:
                    // Targets are always even here: immediates are even and IALIGN is 16 with C, so
                    // the misaligned-target exception of JAL and branches cannot arise.
                    Register(ref x, d.Rd) = pc + Length(code);
                    pc += (ulong)(long)d.Imm;
                    goto Jumped;
                case Operation.Jalr:
                    {
                        var target = (Register(ref x, d.Rs1) + (ulong)(long)d.Imm) & ~1UL;
                        Register(ref x, d.Rd) = pc + Length(code);
                        pc = target;
                        goto Jumped;
                    }
                case Operation.Beq:
                    if (Register(ref x, d.Rs1) == Register(ref x, d.Rs2))
                    {
                        pc += (ulong)(long)d.Imm;
                        goto Jumped;
                    }
                    break;
                case Operation.Bne:
                    if (Register(ref x, d.Rs1) != Register(ref x, d.Rs2))
                    {
                        pc += (ulong)(long)d.Imm;
                        goto Jumped;
                    }
                    break;
                case Operation.Blt:
                    if ((long)Register(ref x, d.Rs1) < (long)Register(ref x, d.Rs2))
                    {
                        pc += (ulong)(long)d.Imm;
                        goto Jumped;
                    }
                    break;
                case Operation.Bge:
                    if ((long)Register(ref x, d.Rs1) >= (long)Register(ref x, d.Rs2))
                    {
                        pc += (ulong)(long)d.Imm;
                        goto Jumped;
                    }
                    break;
                case Operation.Bltu:
                    if (Register(ref x, d.Rs1) < Register(ref x, d.Rs2))
                    {
                        pc += (ulong)(long)d.Imm;
                        goto Jumped;
                    }
                    break;
                case Operation.Bgeu:
                    if (Register(ref x, d.Rs1) >= Register(ref x, d.Rs2))
                    {
                        pc += (ulong)(long)d.Imm;
                        goto Jumped;
                    }
                    break;
                case Operation.Lb:
                    if (!TryLoad<TTranslation>(ram, Register(ref x, d.Rs1) + (ulong)(long)d.Imm, 1, ref loads, loadEpoch, ramBase, loadLimit, ref hits, out value))
                    {
                        goto Access;
                    }
                    Register(ref x, d.Rd) = (ulong)(long)(sbyte)value;
                    break;
                case Operation.Lbu:
                    if (!TryLoad<TTranslation>(ram, Register(ref x, d.Rs1) + (ulong)(long)d.Imm, 1, ref loads, loadEpoch, ramBase, loadLimit, ref hits, out value))
                    {
                        goto Access;
                    }
                    Register(ref x, d.Rd) = value;
                    break;
                case Operation.Lh:
                    if (!TryLoad<TTranslation>(ram, Register(ref x, d.Rs1) + (ulong)(long)d.Imm, 2, ref loads, loadEpoch, ramBase, loadLimit, ref hits, out value))
                    {
                        goto Access;
                    }
                    Register(ref x, d.Rd) = (ulong)(long)(short)value;
                    break;
                case Operation.Lhu:
                    if (!TryLoad<TTranslation>(ram, Register(ref x, d.Rs1) + (ulong)(long)d.Imm, 2, ref loads, loadEpoch, ramBase, loadLimit, ref hits, out value))
                    {
                        goto Access;
                    }
                    Register(ref x, d.Rd) = value;
                    break;
                case Operation.Lw:
                    if (!TryLoad<TTranslation>(ram, Register(ref x, d.Rs1) + (ulong)(long)d.Imm, 4, ref loads, loadEpoch, ramBase, loadLimit, ref hits, out value))
                    {
                        goto Access;
                    }
                    Register(ref x, d.Rd) = (ulong)(long)(int)value;
                    break;
                case Operation.Lwu:
                    if (!TryLoad<TTranslation>(ram, Register(ref x, d.Rs1) + (ulong)(long)d.Imm, 4, ref loads, loadEpoch, ramBase, loadLimit, ref hits, out value))
                    {
                        goto Access;
                    }
                    Register(ref x, d.Rd) = value;
                    break;
                case Operation.Ld:
                    if (!TryLoad<TTranslation>(ram, Register(ref x, d.Rs1) + (ulong)(long)d.Imm, 8, ref loads, loadEpoch, ramBase, loadLimit, ref hits, out value))
                    {
                        goto Access;
                    }
                    Register(ref x, d.Rd) = value;
                    break;
                case Operation.Sb:
                    if (!TryStore<TTranslation>(ram, Register(ref x, d.Rs1) + (ulong)(long)d.Imm, 1, Register(ref x, d.Rs2), ref stores, storeEpoch, ramBase, storeLimit, ref hits))
                    {
                        goto Access;
                    }
                    break;
                case Operation.Sh:
                    if (!TryStore<TTranslation>(ram, Register(ref x, d.Rs1) + (ulong)(long)d.Imm, 2, Register(ref x, d.Rs2), ref stores, storeEpoch, ramBase, storeLimit, ref hits))
                    {
                        goto Access;
                    }
                    break;
                case Operation.Sw:
                    if (!TryStore<TTranslation>(ram, Register(ref x, d.Rs1) + (ulong)(long)d.Imm, 4, Register(ref x, d.Rs2), ref stores, storeEpoch, ramBase, storeLimit, ref hits))
                    {
                        goto Access;
                    }
                    break;
                case Operation.Sd:
                    if (!TryStore<TTranslation>(ram, Register(ref x, d.Rs1) + (ulong)(long)d.Imm, 8, Register(ref x, d.Rs2), ref stores, storeEpoch, ramBase, storeLimit, ref hits))
                    {
                        goto Access;
                    }
                    break;
                case Operation.Addi:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) + (ulong)(long)d.Imm;
                    break;
                case Operation.Slti:
                    Register(ref x, d.Rd) = (long)Register(ref x, d.Rs1) < d.Imm ? 1UL : 0;
                    break;
                case Operation.Sltiu:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) < (ulong)(long)d.Imm ? 1UL : 0;
                    break;
                case Operation.Xori:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) ^ (ulong)(long)d.Imm;
                    break;
                case Operation.Ori:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) | (ulong)(long)d.Imm;
                    break;
                case Operation.Andi:
                    Register(ref x, d.Rd) = Register(ref x, d.Rs1) & (ulong)(long)d.Imm;
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
                    Register(ref x, d.Rd) = MulDiv(0, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Mulh:
                    Register(ref x, d.Rd) = MulDiv(1, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Mulhsu:
                    Register(ref x, d.Rd) = MulDiv(2, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Mulhu:
                    Register(ref x, d.Rd) = MulDiv(3, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Div:
                    Register(ref x, d.Rd) = MulDiv(4, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Divu:
                    Register(ref x, d.Rd) = MulDiv(5, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Rem:
                    Register(ref x, d.Rd) = MulDiv(6, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Remu:
                    Register(ref x, d.Rd) = MulDiv(7, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
                    break;
                case Operation.Mulw:
                    Register(ref x, d.Rd) = MulDivWord(0, Register(ref x, d.Rs1), Register(ref x, d.Rs2));
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
                case Operation.PageEnd:
                    // Sequential execution reached the last parcel of the page (or ran off its end):
                    // the fetch there may straddle into the next page, or is in the next page.
                    exit = DecodedExit.Stop;
                    goto Return;
                default: // SlowPath: the general path decodes it again and executes it, traps and all.
                    exit = DecodedExit.SlowStep;
                    goto Return;
            }
            pc += Length(code);
            if (--remaining == 0)
            {
                exit = DecodedExit.Stop;
                goto Return;
            }
            continue;
        Jumped:
            if (--remaining == 0 || pc - pageBase > 0xffc)
            {
                exit = DecodedExit.Stop;
                goto Return;
            }
        }
    Access:
        exit = DecodedExit.Access;
    Return:
        Pc = pc;
        if (TTranslation.On)
        {
            Counters.TlbHits += hits;
        }
        return limit - remaining;
    }

    /// <summary>
    /// The load or store <paramref name="d"/> at <see cref="Pc"/>, through <see cref="Load"/> or
    /// <see cref="Store"/> (translation, alignment, devices, watchers, faults). False when it trapped.
    /// </summary>
    private bool ExecuteAccess(DecodedInstruction d)
    {
        var operation = d.Operation;
        var address = _x[d.Rs1] + (ulong)(long)d.Imm;
        if (operation is >= Operation.Sb and <= Operation.Sd)
        {
            if (!Store(address, 1 << (operation - Operation.Sb), _x[d.Rs2]))
            {
                return false;
            }
        }
        else
        {
            var size = operation switch
            {
                Operation.Lb or Operation.Lbu => 1,
                Operation.Lh or Operation.Lhu => 2,
                Operation.Lw or Operation.Lwu => 4,
                _ => 8,
            };
            if (!Load(address, size, out var value))
            {
                return false;
            }
            _x[d.Rd] = operation switch
            {
                Operation.Lb => (ulong)(long)(sbyte)value,
                Operation.Lh => (ulong)(long)(short)value,
                Operation.Lw => (ulong)(long)(int)value,
                _ => value,
            };
        }
        Pc += Length(d.Code);
        return true;
    }

    /// <summary>
    /// The hot loop's load of <paramref name="size"/> (a constant after inlining) bytes: true, with the
    /// value, when <paramref name="address"/> is aligned and <see cref="RamOffset"/> places it in RAM
    /// (counting the TLB hit <see cref="Translate"/> would count); false sends it to <see cref="Load"/>.
    /// Inlined like the rest of the loop's helpers, so the loop still calls nothing and each case keeps
    /// its constant size (DOTNET_JitDisasm=ExecuteDecoded shows no call and the hit count in a register).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryLoad<TTranslation>(Memory.SparseRam ram, ulong address, int size, ref CachedTranslation table, ulong epoch, ulong ramBase, ulong limit, ref ulong hits, out ulong value)
        where TTranslation : struct, IDataTranslation
    {
        if ((address & (ulong)(size - 1)) == 0 && RamOffset<TTranslation>(address, ref table, epoch, ramBase, limit, out var offset))
        {
            value = ram.ReadAligned(offset, size);
            if (TTranslation.On)
            {
                hits++;
            }
            return true;
        }
        value = 0;
        return false;
    }

    /// <summary>
    /// The hot loop's store, as <see cref="TryLoad"/>: done here when it is only a copy into RAM
    /// (<see cref="Memory.SparseRam.TryWriteAligned"/>), ending this hart's reservation as <see cref="Store"/> does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryStore<TTranslation>(Memory.SparseRam ram, ulong address, int size, ulong value, ref CachedTranslation table, ulong epoch, ulong ramBase, ulong limit, ref ulong hits)
        where TTranslation : struct, IDataTranslation
    {
        if ((address & (ulong)(size - 1)) == 0 && RamOffset<TTranslation>(address, ref table, epoch, ramBase, limit, out var offset) && ram.TryWriteAligned(offset, size, value))
        {
            StoreObserved(TTranslation.On ? offset + ramBase : address);
            if (TTranslation.On)
            {
                hits++;
            }
            return true;
        }
        return false;
    }

    /// <summary>The length of a decoded instruction as fetched: 4, or 2 for a compressed one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Length(byte code) => 2 + (ulong)((code >> 6) & 2);

    /// <summary>Registers by index without a bounds check: decoded indexes are 0..31, or <see cref="ZeroSink"/> for rd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref ulong Register(ref ulong x, byte index) => ref Unsafe.Add(ref x, index);

    /// <summary>
    /// Adds the instructions the hot path retired at <paramref name="privilege"/> since the counters last
    /// saw them (<paramref name="retired"/> so far, <paramref name="counted"/> of them counted) to the
    /// counters, as the run loop does one by one; returns the new number counted.
    /// </summary>
    private ulong Retire(ulong retired, ulong counted, PrivilegeLevel privilege)
    {
        var count = retired - counted;
        if (count != 0)
        {
            InstructionsRetired += count;
            Counters.RetiredByPrivilege[(int)privilege] += count;
            _trapsWithoutProgress = 0;
        }
        return retired;
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
