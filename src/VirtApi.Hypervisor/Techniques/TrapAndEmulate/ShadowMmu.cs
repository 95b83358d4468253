using VirtApi.Hypervisor.Memory;
using VirtApi.Hypervisor.Statistics;
using VirtApi.Hypervisor.Vcpu;
using VirtApi.Machine.Hart;
using VirtApi.Machine.Memory;
using VirtApi.Machine.Traps;

namespace VirtApi.Hypervisor.Techniques.TrapAndEmulate;

/// <summary>
/// One virtual hart's shadow paging (DESIGN.md "Memory virtualization: shadow"). A shadow table
/// exists per guest translation context: per guest address space (the guest's satp, root and ASID)
/// and per view of it (S or U, with SUM and MXR), because the hart runs every guest level in U-mode
/// and only the shadow's contents can give each level its own permissions; a guest with translation
/// off (M-mode, or satp Bare) gets the P2M alone as its context. Tables are kept across satp switches,
/// as a TLB with ASIDs keeps entries, and resynchronised when the guest executes <c>sfence.vma</c>:
/// the RISC-V privileged spec (section 4.2.1) makes <c>sfence.vma</c> the point after which a PTE
/// change must be seen, and it traps to the VMM anyway, so the guest's page-table pages need no write
/// protection (no trap per PTE store, unlike x86 shadow paging, which has to trace page-table writes).
/// </summary>
public sealed class ShadowMmu
{
    // Translation contexts kept per virtual hart; beyond this the oldest is dropped (its frames reused).
    private const int MaxContexts = 16;

    private readonly VirtualHart _vhart;
    private readonly MachineFramePool _tables;
    private readonly SparseRam _ram;
    private readonly VmmCounters _counters;
    private readonly CostModel _cost;
    private readonly Dictionary<ShadowContext, ShadowPageTable> _contexts = [];
    private readonly List<ShadowContext> _age = []; // oldest first
    private ShadowPageTable? _current;
    private ShadowContext _currentContext;

    public ShadowMmu(VirtualHart vhart, MachineFramePool tables, SparseRam ram, VmmCounters counters, CostModel cost)
    {
        _vhart = vhart;
        _tables = tables;
        _ram = ram;
        _counters = counters;
        _cost = cost;
    }

    /// <summary>
    /// The guest's translation regime now: none (M-mode or satp Bare, where the P2M alone translates),
    /// Sv39 at the guest's privilege, or M-mode with MPRV (section 3.1.6.3), where data accesses are
    /// translated at MPP's privilege and fetches are not.
    /// </summary>
    public ShadowContext Context()
    {
        var c = _vhart.Csrs;
        var privilege = _vhart.Privilege;
        var mprv = false;
        if (privilege == PrivilegeLevel.Machine && (c.Mstatus & CsrFile.Mprv) != 0)
        {
            privilege = (PrivilegeLevel)((c.Mstatus & CsrFile.Mpp) >> (int)CsrFile.MppShift);
            mprv = true;
        }
        if (privilege == PrivilegeLevel.Machine || (c.Satp >> 60) != Sv39.SatpMode)
        {
            return default;
        }
        var user = privilege == PrivilegeLevel.User;
        var view = (user ? ShadowContext.User : 0) | ((c.Mstatus & CsrFile.Mxr) != 0 ? ShadowContext.Mxr : 0)
            | (!user && (c.Mstatus & CsrFile.Sum) != 0 ? ShadowContext.Sum : 0) | (mprv ? ShadowContext.Mprv : 0);
        return new ShadowContext(c.Satp, view);
    }

    /// <summary>Points the real satp at the shadow of the guest's current context (VM entry).</summary>
    public void Load()
    {
        var context = Context();
        if (_current is not null && context == _currentContext)
        {
            return;
        }
        _current = Table(context);
        _currentContext = context;
        _vhart.Hart.Csrs.Satp = _current.Satp;
        _vhart.Hart.FlushTranslations();
    }

    private ShadowPageTable Table(ShadowContext context)
    {
        if (_contexts.TryGetValue(context, out var table))
        {
            return table;
        }
        if (_contexts.Count == MaxContexts)
        {
            Drop(_age[0]);
        }
        table = ShadowPageTable.Create(_tables, _ram);
        if (table is null)
        {
            // The VMM's table pool is full: start over, as a shadow cache under pressure does.
            FlushAll();
            table = ShadowPageTable.Create(_tables, _ram) ?? throw new InvalidOperationException("the shadow table pool cannot hold one root table");
        }
        _contexts[context] = table;
        _age.Add(context);
        return table;
    }

    /// <summary>Maps one page in the current context's shadow: the work of a hidden fault.</summary>
    public void Fill(ulong virtualAddress, ulong machineAddress, ulong permissions)
    {
        Load();
        if (!_current!.TryMap(virtualAddress, machineAddress, permissions))
        {
            FlushAll();
            Load();
            if (!_current!.TryMap(virtualAddress, machineAddress, permissions))
            {
                throw new InvalidOperationException("the shadow table pool cannot map one page");
            }
        }
        _counters.HiddenFaults++;
        _counters.VmmCycles += _cost.HiddenFault;
        // The hart may hold the page's old, narrower permissions in its TLB.
        _vhart.Hart.FlushTranslations(virtualAddress);
    }

    /// <summary>
    /// The guest executed <c>sfence.vma</c> (section 4.2.1): drop the shadow entries it orders fenced,
    /// of one page or all, of one ASID or all; the next access refills them from the guest's tables.
    /// </summary>
    public void Fence(ulong? virtualAddress, ulong? asid)
    {
        foreach (var context in _contexts.Keys.ToList())
        {
            if (context.Translated && (asid is not { } id || context.Asid == id))
            {
                if (virtualAddress is { } address)
                {
                    _contexts[context].Unmap(address);
                    _counters.ShadowInvalidations++;
                    _counters.VmmCycles += _cost.ShadowInvalidation;
                }
                else
                {
                    Drop(context);
                }
            }
        }
        _vhart.Hart.FlushTranslations(virtualAddress);
    }

    /// <summary>Drops every shadow table and loads a fresh one for the current context: nothing stays mapped.</summary>
    public void Rebuild()
    {
        FlushAll();
        Load();
    }

    private void FlushAll()
    {
        foreach (var context in _contexts.Keys.ToList())
        {
            Drop(context);
        }
    }

    private void Drop(ShadowContext context)
    {
        if (!_contexts.Remove(context, out var table))
        {
            return;
        }
        table.Release();
        _counters.ShadowFlushes++;
        _counters.VmmCycles += _cost.ShadowFlush;
        _age.Remove(context);
        if (table == _current)
        {
            // The hart must not walk a released table: the VMM loads a fresh one before the guest resumes.
            _current = null;
        }
    }
}

/// <summary>A guest translation context: the guest's satp (root and ASID) and the view (U, MXR, SUM); default = untranslated.</summary>
public readonly record struct ShadowContext(ulong Satp, ulong View)
{
    public const ulong User = 1, Mxr = 2, Sum = 4, Mprv = 8;

    /// <summary>
    /// M-mode with MPRV: data translated at MPP's privilege, fetches physical. One shadow serves both:
    /// a page filled for a fetch is executable only, one filled for data is not executable, so a page
    /// used both ways with two translations is refilled at each switch, and each access is right.
    /// </summary>
    public bool ModifiedPrivilege => (View & Mprv) != 0;

    /// <summary>The privilege level data accesses are translated at.</summary>
    public PrivilegeLevel DataPrivilege => (View & User) != 0 ? PrivilegeLevel.User : PrivilegeLevel.Supervisor;

    /// <summary>Translated through the guest's tables (otherwise the P2M alone).</summary>
    public bool Translated => (Satp >> 60) == Sv39.SatpMode;

    /// <summary>The guest's ASID.</summary>
    public ulong Asid => (Satp >> 44) & 0xffff;
}
