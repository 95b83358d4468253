using VirtApi.Hypervisor.Devices.Emulated;
using VirtApi.Hypervisor.Memory;
using VirtApi.Hypervisor.Statistics;
using VirtApi.Hypervisor.Vcpu;
using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Hart;
using VirtApi.Machine.Traps;

namespace VirtApi.Hypervisor.Techniques.TrapAndEmulate;

/// <summary>
/// The trap-and-emulate VMM (DESIGN.md "CPU virtualization", Popek and Goldberg 1974): the guest's
/// kernel runs on the hart in U-mode, so every privileged instruction it executes raises an
/// illegal-instruction trap, which arrives here through <see cref="IHartMonitor"/> as real hardware
/// vectors to a hypervisor. The VMM decodes the instruction and emulates it on the guest's virtual
/// CSR file; the guest's own exceptions and interrupts arrive here first too and are delivered into it
/// as the hardware would (<see cref="Reflect"/>); page faults are either hidden faults the shadow MMU
/// fills, device accesses it emulates, or the guest's own faults. Every trap is taken over: the hart
/// never vectors by itself.
/// </summary>
public sealed class TrapAndEmulateVmm : IHartMonitor
{
    private const ulong InterruptEnables = CsrFile.StatusSie | CsrFile.StatusMie;

    private readonly VirtualHart[] _vharts;
    private readonly ShadowMmu[] _shadows;
    private readonly P2mMap _p2m;
    private readonly GuestPageTableWalker _walker;
    private readonly EmulatedMmio _mmio;
    private readonly SystemBus _bus;
    private readonly CostModel _cost;
    private readonly AddressRange _bootRom = new(BootRom.Address, BootRom.Size);

    // A hidden fault that repeats at the same place without the guest retiring anything means the
    // VMM's own state is wrong; it ends the VM (a VMM fault) instead of spinning.
    private (ulong Instret, ulong Address, int Count) _repeatedFault;

    public TrapAndEmulateVmm(IReadOnlyList<Hart> harts, IHartPlatform platform, SystemBus bus, P2mMap p2m, MachineFramePool tables, EmulatedMmio mmio, VmmCounters counters, CostModel cost)
        : this([.. harts.Select(h => new VirtualHart(h, platform))], bus, p2m, tables, mmio, counters, cost)
    {
    }

    private TrapAndEmulateVmm(VirtualHart[] vharts, SystemBus bus, P2mMap p2m, MachineFramePool tables, EmulatedMmio mmio, VmmCounters counters, CostModel cost)
    {
        _bus = bus;
        _p2m = p2m;
        _mmio = mmio;
        _cost = cost;
        Counters = counters;
        _walker = new GuestPageTableWalker(p2m, bus, counters, cost);
        _vharts = vharts;
        _shadows = [.. _vharts.Select(v => new ShadowMmu(v, tables, bus.Ram, counters, cost))];
    }

    /// <summary>
    /// The VMM's state for a snapshot: the virtual harts, the P2M and the counters. The shadow tables
    /// are not saved: they are a cache of the guest's tables and the P2M, rebuilt by hidden faults.
    /// </summary>
    public TrapAndEmulateState Save() => new()
    {
        VirtualHarts = [.. _vharts.Select(v => v.Save())],
        P2m = _p2m.Save(),
        Counters = Counters.Save(),
    };

    /// <summary>
    /// The VMM <paramref name="state"/> was saved from, over restored real harts and a restored P2M and
    /// counters (built from the same state by the caller); call <see cref="Reenter"/> before running.
    /// </summary>
    public static TrapAndEmulateVmm Restore(IReadOnlyList<Hart> harts, IHartPlatform platform, SystemBus bus, P2mMap p2m, MachineFramePool tables, EmulatedMmio mmio, VmmCounters counters, CostModel cost, TrapAndEmulateState state)
    {
        if (state.VirtualHarts.IsDefault || state.VirtualHarts.Length != harts.Count)
        {
            throw new ArgumentException($"the saved VMM has {(state.VirtualHarts.IsDefault ? 0 : state.VirtualHarts.Length)} virtual harts; this machine has {harts.Count}", nameof(state));
        }
        return new TrapAndEmulateVmm([.. harts.Select((h, i) => VirtualHart.Restore(h, platform, state.VirtualHarts[i]))], bus, p2m, tables, mmio, counters, cost);
    }

    /// <summary>
    /// After a restore: takes over every hart's traps again and enters the guest, which builds fresh
    /// shadow tables for its current context (the saved real satp pointed at tables that are gone).
    /// </summary>
    public void Reenter()
    {
        foreach (var vhart in _vharts)
        {
            vhart.Hart.Monitor = this;
            Enter(vhart);
        }
    }

    public VmmCounters Counters { get; }

    /// <summary>
    /// Starts log-dirty mode (Xen's shadow log-dirty, for a migration's pre-copy): every guest page is
    /// write-protected in the shadows, and the first store to each comes to the VMM, which logs the
    /// page in the P2M's dirty log and maps it writable. The VMM's own writes (A/D bits), device DMA
    /// and HTIF's answers are logged where they happen.
    /// </summary>
    public void StartDirtyLog()
    {
        _p2m.StartDirtyLog();
        WriteProtectGuest();
    }

    /// <summary>The guest pages written since the last take (or the start), in order; every page is write-protected again.</summary>
    public IReadOnlyList<ulong> TakeDirtyLog()
    {
        var dirty = _p2m.TakeDirtyLog();
        WriteProtectGuest();
        return dirty;
    }

    /// <summary>Ends log-dirty mode; pages mapped read-only by it become writable again on their next store.</summary>
    public void StopDirtyLog() => _p2m.StopDirtyLog();

    // Writable shadow entries are dropped by rebuilding every shadow from empty, as Xen's log-dirty
    // "clean" blows the shadow tables: cheaper than finding each writable entry, and the hidden
    // faults that refill them are the mode's real cost.
    private void WriteProtectGuest()
    {
        foreach (var shadow in _shadows)
        {
            shadow.Rebuild();
        }
    }

    public IReadOnlyList<VirtualHart> VirtualHarts => _vharts;

    /// <summary>Starts every guest hart in virtual M-mode at <paramref name="resetVector"/>, the hart itself in U-mode.</summary>
    public void Start(ulong resetVector)
    {
        foreach (var vhart in _vharts)
        {
            vhart.Privilege = PrivilegeLevel.Machine;
            vhart.Hart.Resume(PrivilegeLevel.User, resetVector);
            vhart.Hart.Monitor = this;
            Enter(vhart);
        }
    }

    public bool OnTrap(Hart hart, in TrapEvent trap)
    {
        var started = HostTimer.Start();
        var vhart = _vharts[hart.Id];
        Exit(vhart);
        Counters.Traps++;
        Counters.VmmCycles += _cost.Trap;
        if (trap.IsInterrupt)
        {
            Count(TrapClass.Interrupt);
            DeliverInterrupt(vhart);
        }
        else
        {
            switch ((ExceptionCause)trap.Cause)
            {
                case ExceptionCause.IllegalInstruction:
                    EmulatePrivileged(vhart, (uint)trap.Tval);
                    break;
                case ExceptionCause.EnvironmentCallFromU:
                    Count(TrapClass.Ecall);
                    Reflect(vhart, vhart.Privilege switch
                    {
                        PrivilegeLevel.User => ExceptionCause.EnvironmentCallFromU,
                        PrivilegeLevel.Supervisor => ExceptionCause.EnvironmentCallFromS,
                        _ => ExceptionCause.EnvironmentCallFromM,
                    }, 0);
                    break;
                case ExceptionCause.InstructionPageFault:
                    Count(TrapClass.PageFault);
                    PageFault(vhart, AccessType.Fetch, trap.Tval);
                    break;
                case ExceptionCause.LoadPageFault:
                    Count(TrapClass.PageFault);
                    PageFault(vhart, AccessType.Load, trap.Tval);
                    break;
                case ExceptionCause.StorePageFault:
                    Count(TrapClass.PageFault);
                    PageFault(vhart, AccessType.Store, trap.Tval);
                    break;
                default:
                    // Breakpoints and misaligned accesses are the guest's own: the hart raised them
                    // exactly as it would have natively.
                    Count(TrapClass.OtherException);
                    Reflect(vhart, (ExceptionCause)trap.Cause, trap.Tval);
                    break;
            }
        }
        Enter(vhart);
        Counters.AddHostTime(started);
        return true;
    }

    /// <summary>The hart's walks here are of the shadow tables, already counted by the hart (pageWalks); the VMM counts its own walks of the guest's tables.</summary>
    public void OnPageWalk(Hart hart, ulong virtualAddress, int memoryReferences)
    {
    }

    private void Count(TrapClass trapClass) => Counters.TrapsByClass[(int)trapClass]++;

    // ---- VM exit and entry -------------------------------------------------------------------------

    /// <summary>
    /// On every exit: account the instructions the guest retired since the last exit to its privilege
    /// level, and take back what the hardware registers hold of the guest's state (the interrupt
    /// lines, and under x86-legacy the status bits the guest wrote without a trap).
    /// </summary>
    private static void Exit(VirtualHart vhart)
    {
        var hart = vhart.Hart;
        vhart.RetiredByPrivilege[(int)vhart.Privilege] += hart.InstructionsRetired - vhart.InstretAccounted;
        vhart.InstretAccounted = hart.InstructionsRetired;
        var c = vhart.Csrs;
        c.Mstatus = (c.Mstatus & InterruptEnables) | (hart.Csrs.Mstatus & ~InterruptEnables);
        c.MipPlatform = hart.Csrs.MipPlatform;
    }

    /// <summary>
    /// On every entry: load the guest's state into the hardware. The real mstatus holds the guest's
    /// bits with both interrupt enables set (the VMM keeps interrupts enabled while its guest runs);
    /// nothing is delegated, so every trap comes to the VMM; counters trap, so the VMM answers them;
    /// the real timer compare and software pending bits are the guest's; real mie lets through exactly
    /// the interrupts the guest would take now (all of its mie while it waits in wfi, which any of
    /// them ends); the real satp points at the shadow of the guest's current context.
    /// </summary>
    private void Enter(VirtualHart vhart)
    {
        var hart = vhart.Hart;
        var real = hart.Csrs;
        var guest = vhart.Csrs;
        real.Mstatus = guest.Mstatus | InterruptEnables;
        real.Medeleg = 0;
        real.Mideleg = 0;
        real.Mcounteren = 0;
        real.Menvcfg = guest.Menvcfg;
        real.Stimecmp = guest.Stimecmp;
        real.MipSoftware = guest.MipSoftware;
        real.Mie = vhart.Waiting ? guest.Mie : guest.DeliverableInterrupts(vhart.Privilege);
        _shadows[hart.Id].Load();
        hart.CsrsChanged();
        if (vhart.Waiting)
        {
            hart.WaitForInterrupt();
        }
    }

    // ---- reflection --------------------------------------------------------------------------------

    /// <summary>Delivers an exception into the guest as its hardware would: virtual trap entry with its delegation and vector.</summary>
    private void Reflect(VirtualHart vhart, ExceptionCause cause, ulong tval)
    {
        Counters.ReflectedExceptions[(int)cause]++;
        Deliver(vhart, (ulong)cause, tval, interrupt: false);
    }

    private void Deliver(VirtualHart vhart, ulong cause, ulong tval, bool interrupt)
    {
        var privilege = vhart.Privilege;
        var vector = vhart.Csrs.EnterTrap(ref privilege, vhart.Hart.Pc, cause, tval, interrupt);
        vhart.Privilege = privilege;
        vhart.Hart.Resume(PrivilegeLevel.User, vector);
        Counters.ReflectedTraps++;
        Counters.VmmCycles += _cost.ReflectedTrap;
    }

    /// <summary>
    /// The hart took an interrupt: the guest takes it if it has it enabled at its privilege now (the
    /// real mie let it through because it did, or because the guest waits in wfi, which any pending
    /// interrupt of its mie ends, enabled or not).
    /// </summary>
    private void DeliverInterrupt(VirtualHart vhart)
    {
        vhart.Waiting = false;
        var cause = vhart.Csrs.SelectInterrupt(vhart.Privilege, vhart.Csrs.Mip & vhart.Csrs.Mie);
        if (cause >= 0)
        {
            Counters.ReflectedInterrupts[cause]++;
            Deliver(vhart, (ulong)cause, 0, interrupt: true);
        }
    }

    // ---- privileged instructions -------------------------------------------------------------------

    /// <summary>Finishes an emulated instruction: it retires at the guest's level it ran at, and the guest goes on at <paramref name="nextPc"/>.</summary>
    private void Retire(VirtualHart vhart, PrivilegeLevel ranAt, ulong nextPc)
    {
        vhart.Hart.CompleteInstruction(nextPc);
        vhart.RetiredByPrivilege[(int)ranAt]++;
        vhart.InstretAccounted++;
        Counters.EmulatedInstructions++;
        Counters.VmmCycles += _cost.EmulatedInstruction;
    }

    /// <summary>
    /// An illegal-instruction trap: a privileged instruction of the guest (emulated at its virtual
    /// privilege, with the same rules the hardware applies: <see cref="CsrFile"/>), or an instruction
    /// illegal for the guest too (reflected).
    /// </summary>
    private void EmulatePrivileged(VirtualHart vhart, uint inst)
    {
        var hart = vhart.Hart;
        var pc = hart.Pc;
        var privilege = vhart.Privilege;
        var c = vhart.Csrs;
        if ((inst & 3) != 3 || (inst & 0x7f) != 0x73)
        {
            Count(TrapClass.IllegalInstruction);
            Reflect(vhart, ExceptionCause.IllegalInstruction, inst);
            return;
        }
        var funct3 = (inst >> 12) & 7;
        var rd = (int)((inst >> 7) & 0x1f);
        var rs1 = (int)((inst >> 15) & 0x1f);
        if (funct3 == 0)
        {
            switch (inst)
            {
                case 0x30200073: // MRET
                    Count(TrapClass.Mret);
                    if (!CsrFile.MretAllowed(privilege))
                    {
                        Reflect(vhart, ExceptionCause.IllegalInstruction, inst);
                        return;
                    }
                    var mepc = c.ReturnFromMachine(ref privilege);
                    Retire(vhart, vhart.Privilege, mepc);
                    vhart.Privilege = privilege;
                    return;
                case 0x10200073: // SRET
                    Count(TrapClass.Sret);
                    if (!c.SretAllowed(privilege))
                    {
                        Reflect(vhart, ExceptionCause.IllegalInstruction, inst);
                        return;
                    }
                    var sepc = c.ReturnFromSupervisor(ref privilege);
                    Retire(vhart, vhart.Privilege, sepc);
                    vhart.Privilege = privilege;
                    return;
                case 0x10500073: // WFI
                    Count(TrapClass.Wfi);
                    if (!c.WfiAllowed(privilege))
                    {
                        Reflect(vhart, ExceptionCause.IllegalInstruction, inst);
                        return;
                    }
                    Retire(vhart, privilege, pc + 4);
                    // Wait only if nothing enabled is pending already (mip & mie, whatever the global enables).
                    vhart.Waiting = (c.Mip & c.Mie) == 0;
                    return;
                default:
                    if ((inst & 0xfe007fff) == 0x12000073) // SFENCE.VMA
                    {
                        Count(TrapClass.SfenceVma);
                        if (!c.SfenceVmaAllowed(privilege))
                        {
                            Reflect(vhart, ExceptionCause.IllegalInstruction, inst);
                            return;
                        }
                        var rs2 = (int)((inst >> 20) & 0x1f);
                        _shadows[hart.Id].Fence(rs1 != 0 ? hart[rs1] : null, rs2 != 0 ? hart[rs2] & 0xffff : null);
                        Retire(vhart, privilege, pc + 4);
                        return;
                    }
                    Count(TrapClass.IllegalInstruction);
                    Reflect(vhart, ExceptionCause.IllegalInstruction, inst);
                    return;
            }
        }
        Count(TrapClass.Csr);
        if (funct3 == 4)
        {
            Reflect(vhart, ExceptionCause.IllegalInstruction, inst);
            return;
        }
        var csr = (int)(inst >> 20);
        var source = funct3 >= 5 ? (ulong)rs1 : hart[rs1];
        var op = funct3 & 3;
        var writes = op == 1 || rs1 != 0;
        if (!CsrFile.MayAccess(csr, privilege, writes) || !c.TryRead(csr, privilege, vhart, out var old))
        {
            Reflect(vhart, ExceptionCause.IllegalInstruction, inst);
            return;
        }
        if (writes)
        {
            var value = CsrFile.Written(op, old, source);
            if (!c.TryWrite(csr, privilege, vhart, value))
            {
                Reflect(vhart, ExceptionCause.IllegalInstruction, inst);
                return;
            }
        }
        hart[rd] = old;
        Retire(vhart, privilege, pc + 4);
    }

    // ---- memory ------------------------------------------------------------------------------------

    /// <summary>
    /// A page fault of the hart: translate the address as the guest's hardware would (its tables, then
    /// the P2M). A true guest fault is reflected; guest RAM or the boot ROM is a hidden fault, filled in
    /// the shadow; a device register is emulated; anything else is an access fault in the guest.
    /// </summary>
    private void PageFault(VirtualHart vhart, AccessType access, ulong address)
    {
        var hart = vhart.Hart;
        var shadow = _shadows[hart.Id];
        var context = shadow.Context();
        var permissions = Sv39.PteR | Sv39.PteW | Sv39.PteX;
        if (context.ModifiedPrivilege)
        {
            // MPRV: a fetch is physical and its page is mapped for fetches only; data pages never execute.
            permissions = access == AccessType.Fetch ? Sv39.PteX : Sv39.PteR | Sv39.PteW;
        }
        var guestPhysical = address;
        if (context.Translated && !(context.ModifiedPrivilege && access == AccessType.Fetch))
        {
            var privilege = context.ModifiedPrivilege ? context.DataPrivilege : vhart.Privilege;
            var translation = _walker.Walk(vhart.Csrs.Satp, address, access, privilege, vhart.Csrs.Mstatus);
            if (translation.Outcome != GuestWalkOutcome.Translated)
            {
                if (translation.Outcome == GuestWalkOutcome.PageFault)
                {
                    Counters.GuestPageFaults++;
                }
                Reflect(vhart, GuestPageTableWalker.FaultCause(translation.Outcome, access), address);
                return;
            }
            guestPhysical = translation.GuestPhysical;
            permissions &= ShadowPermissions(translation.Leaf, privilege, vhart.Csrs.Mstatus);
        }
        if (_p2m.TryTranslate(guestPhysical, out var machine))
        {
            CheckProgress(hart, address);
            if (_p2m.LoggingDirty && (permissions & Sv39.PteW) != 0 && !_p2m.IsLoggedDirty(guestPhysical))
            {
                // Log-dirty mode: a clean page is mapped without write, so its first store comes here.
                if (access == AccessType.Store)
                {
                    _p2m.LogDirty(guestPhysical);
                    Counters.DirtyLogFaults++;
                }
                else
                {
                    permissions &= ~Sv39.PteW;
                }
            }
            shadow.Fill(address, machine, permissions);
            return;
        }
        if (_bootRom.Contains(guestPhysical) && access != AccessType.Store)
        {
            // The boot ROM is mapped read-only and executable at its own address, like firmware ROM.
            CheckProgress(hart, address);
            shadow.Fill(address, guestPhysical, permissions & (Sv39.PteR | Sv39.PteX));
            return;
        }
        if (access != AccessType.Fetch && _mmio.IsPassthrough(guestPhysical))
        {
            // A passthrough device's page is mapped into the guest at its own address, for data only:
            // from now on its register accesses reach the device with no VMM on the path.
            CheckProgress(hart, address);
            shadow.Fill(address, guestPhysical, permissions & (Sv39.PteR | Sv39.PteW));
            return;
        }
        if (access != AccessType.Fetch && _mmio.IsDevice(guestPhysical) && ReadInstruction(vhart, out var inst, out var length)
            && _mmio.TryAccess(hart, inst, guestPhysical))
        {
            Retire(vhart, vhart.Privilege, hart.Pc + length);
            return;
        }
        Reflect(vhart, Sv39.AccessFault(access), address);
    }

    /// <summary>
    /// What the shadow entry may allow in this context: the guest's leaf checked for each kind of
    /// access at the guest's privilege, SUM and MXR (the context is keyed by them), and write only
    /// once the guest's D bit is set, so the first store still comes to the VMM to set it.
    /// </summary>
    private static ulong ShadowPermissions(ulong leaf, PrivilegeLevel privilege, ulong status)
    {
        var permissions = 0UL;
        if (Sv39.Permitted(leaf, AccessType.Load, privilege, status))
        {
            permissions |= Sv39.PteR;
        }
        if (Sv39.Permitted(leaf, AccessType.Store, privilege, status) && (leaf & Sv39.PteD) != 0)
        {
            permissions |= Sv39.PteW | Sv39.PteR;
        }
        if (Sv39.Permitted(leaf, AccessType.Fetch, privilege, status))
        {
            permissions |= Sv39.PteX;
        }
        return permissions;
    }

    private void CheckProgress(Hart hart, ulong address)
    {
        var instret = hart.InstructionsRetired;
        _repeatedFault = _repeatedFault.Instret == instret && _repeatedFault.Address == address
            ? _repeatedFault with { Count = _repeatedFault.Count + 1 }
            : (instret, address, 1);
        if (_repeatedFault.Count > 4)
        {
            throw new InvalidOperationException($"shadow fill for 0x{address:x} does not take effect (pc 0x{hart.Pc:x})");
        }
    }

    /// <summary>Reads the instruction at the guest's pc (for a device access), through its translation and the P2M.</summary>
    private bool ReadInstruction(VirtualHart vhart, out uint instruction, out ulong length)
    {
        instruction = 0;
        length = 4;
        if (!ReadGuest(vhart, vhart.Hart.Pc, out var low))
        {
            return false;
        }
        if ((low & 3) != 3)
        {
            length = 2;
            instruction = CompressedExpander.Expand(low);
            return instruction != 0;
        }
        if (!ReadGuest(vhart, vhart.Hart.Pc + 2, out var high))
        {
            return false;
        }
        instruction = low | (high << 16);
        return true;
    }

    private bool ReadGuest(VirtualHart vhart, ulong address, out uint parcel)
    {
        parcel = 0;
        var guestPhysical = address;
        if (_shadows[vhart.Hart.Id].Context() is { Translated: true, ModifiedPrivilege: false })
        {
            var translation = _walker.Walk(vhart.Csrs.Satp, address, AccessType.Fetch, vhart.Privilege, vhart.Csrs.Mstatus);
            if (translation.Outcome != GuestWalkOutcome.Translated)
            {
                return false;
            }
            guestPhysical = translation.GuestPhysical;
        }
        if (!_p2m.TryLookup(guestPhysical, out var machine))
        {
            return false;
        }
        parcel = (uint)_bus.Ram.Read(machine, 2);
        return true;
    }
}
