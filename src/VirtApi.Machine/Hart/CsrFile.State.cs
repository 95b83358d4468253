namespace VirtApi.Machine.Hart;

/// <summary>What a <see cref="CsrFile"/> needs besides its saved values: the hart it belongs to (<c>mhartid</c>).</summary>
public sealed record CsrFileArgs(int HartId);

public sealed partial class CsrFile
{
    /// <summary>The values of every stateful CSR, for a snapshot.</summary>
    public CsrFileState Save() => new()
    {
        Mstatus = Mstatus,
        Medeleg = Medeleg,
        Mideleg = Mideleg,
        Mie = Mie,
        MipSoftware = MipSoftware,
        MipPlatform = MipPlatform,
        Mtvec = Mtvec,
        Stvec = Stvec,
        Mscratch = Mscratch,
        Sscratch = Sscratch,
        Mepc = Mepc,
        Sepc = Sepc,
        Mcause = Mcause,
        Scause = Scause,
        Mtval = Mtval,
        Stval = Stval,
        Satp = Satp,
        Mcounteren = Mcounteren,
        Scounteren = Scounteren,
        Menvcfg = Menvcfg,
        Stimecmp = Stimecmp,
        Mcountinhibit = Mcountinhibit,
        PmpCfg = [.. PmpCfg],
        PmpAddr = [.. PmpAddr],
    };

    /// <summary>
    /// A CSR file holding <paramref name="state"/>'s values as they were saved (no WARL filtering: they
    /// were legal when written). Whoever holds it re-evaluates interrupts, timers and translation.
    /// </summary>
    public static CsrFile Restore(CsrFileArgs args, CsrFileState state)
    {
        var csrs = new CsrFile(args.HartId)
        {
            Mstatus = state.Mstatus,
            Medeleg = state.Medeleg,
            Mideleg = state.Mideleg,
            Mie = state.Mie,
            MipSoftware = state.MipSoftware,
            MipPlatform = state.MipPlatform,
            Mtvec = state.Mtvec,
            Stvec = state.Stvec,
            Mscratch = state.Mscratch,
            Sscratch = state.Sscratch,
            Mepc = state.Mepc,
            Sepc = state.Sepc,
            Mcause = state.Mcause,
            Scause = state.Scause,
            Mtval = state.Mtval,
            Stval = state.Stval,
            Satp = state.Satp,
            Mcounteren = state.Mcounteren,
            Scounteren = state.Scounteren,
            Menvcfg = state.Menvcfg,
            Stimecmp = state.Stimecmp,
            Mcountinhibit = state.Mcountinhibit,
        };
        StateArrays.CopyInto(state.PmpCfg, csrs.PmpCfg, nameof(state.PmpCfg));
        StateArrays.CopyInto(state.PmpAddr, csrs.PmpAddr, nameof(state.PmpAddr));
        return csrs;
    }
}
