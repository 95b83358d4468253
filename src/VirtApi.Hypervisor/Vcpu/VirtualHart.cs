using VirtApi.Machine;
using VirtApi.Machine.Hart;
using VirtApi.Machine.Traps;

namespace VirtApi.Hypervisor.Vcpu;

/// <summary>
/// A virtual hart (DESIGN.md "The hypervisor"): the privilege level the guest believes it runs at,
/// its virtual CSR file and whether it waits in <c>wfi</c>. The guest's registers and pc live in the
/// real hart it runs on. Its CSR file obeys the same rules as the hardware's (<see cref="CsrFile"/>),
/// with the real hart's retired-instruction count (which includes the instructions the VMM emulated)
/// and the board's virtual time, so the guest sees the same counters and time as on bare hardware.
/// </summary>
public sealed class VirtualHart : ICsrHost
{
    private readonly IHartPlatform _platform;

    public VirtualHart(Hart hart, IHartPlatform platform)
        : this(hart, platform, new CsrFile(hart.Id))
    {
        InstretAccounted = hart.InstructionsRetired;
    }

    private VirtualHart(Hart hart, IHartPlatform platform, CsrFile csrs)
    {
        Hart = hart;
        _platform = platform;
        Csrs = csrs;
    }

    /// <summary>The real hart the guest runs on.</summary>
    public Hart Hart { get; }

    /// <summary>The guest's privilege level (the real hart runs it in U-mode).</summary>
    public PrivilegeLevel Privilege { get; set; } = PrivilegeLevel.Machine;

    /// <summary>The guest's CSRs.</summary>
    public CsrFile Csrs { get; }

    /// <summary>The guest executed <c>wfi</c> and no interrupt of its <c>mie</c> is pending yet.</summary>
    public bool Waiting { get; set; }

    /// <summary>Retired instructions by the guest's privilege level (index: 0 U, 1 S, 3 M).</summary>
    public ulong[] RetiredByPrivilege { get; } = new ulong[4];

    /// <summary>The real hart's instret up to which <see cref="RetiredByPrivilege"/> is accounted.</summary>
    public ulong InstretAccounted { get; set; }

    /// <summary>The guest's view of its hart, for a snapshot (call it between two runs of the board).</summary>
    public VirtualHartState Save() => new()
    {
        Privilege = Privilege,
        Csrs = Csrs.Save(),
        Waiting = Waiting,
        RetiredByPrivilege = [.. RetiredByPrivilege],
        InstretAccounted = InstretAccounted,
    };

    /// <summary>The virtual hart <paramref name="state"/> was saved from, on the restored real hart <paramref name="hart"/>.</summary>
    public static VirtualHart Restore(Hart hart, IHartPlatform platform, VirtualHartState state)
    {
        var vhart = new VirtualHart(hart, platform, CsrFile.Restore(new CsrFileArgs(hart.Id), state.Csrs))
        {
            Privilege = state.Privilege,
            Waiting = state.Waiting,
            InstretAccounted = state.InstretAccounted,
        };
        StateArrays.CopyInto(state.RetiredByPrivilege, vhart.RetiredByPrivilege, nameof(state.RetiredByPrivilege));
        return vhart;
    }

    ulong ICsrHost.InstructionsRetired => Hart.InstructionsRetired;

    ulong ICsrHost.Time => _platform.Time(Hart);

    /// <summary>
    /// stimecmp or menvcfg changed. Only the VMM writes these CSRs, while it emulates an instruction,
    /// and its VM entry right after loads both into the real hart and recomputes its timers.
    /// </summary>
    void ICsrHost.TimersChanged()
    {
    }
}
