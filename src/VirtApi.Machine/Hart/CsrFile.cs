namespace VirtApi.Machine.Hart;

/// <summary>
/// The CSR state of one hart (privileged spec 1.12, chapters 2-4): the values here, the access rules
/// and WARL behaviour in <c>CsrFile.Access.cs</c>, trap entry, xRET and interrupt selection in
/// <c>CsrFile.Traps.cs</c>. The rules are the architecture's, so they serve both the hart and a VMM
/// emulating the same instructions on a guest's virtual CSR file.
/// </summary>
public sealed partial class CsrFile
{
    public CsrFile(int hartId) => HartId = (ulong)hartId;

    // mstatus fields (section 3.1.6).
    public const ulong StatusSie = 1UL << 1;
    public const ulong StatusMie = 1UL << 3;
    public const ulong Spie = 1UL << 5;
    public const ulong Mpie = 1UL << 7;
    public const ulong Spp = 1UL << 8;
    public const ulong MppShift = 11;
    public const ulong Mpp = 3UL << 11;
    public const ulong Mprv = 1UL << 17;
    public const ulong Sum = 1UL << 18;
    public const ulong Mxr = 1UL << 19;
    public const ulong Tvm = 1UL << 20;
    public const ulong Tw = 1UL << 21;
    public const ulong Tsr = 1UL << 22;

    /// <summary>UXL = SXL = 2: U and S are 64-bit (read-only, section 3.1.6.2).</summary>
    public const ulong XlFields = (2UL << 32) | (2UL << 34);

    public const ulong MstatusWritable = StatusSie | StatusMie | Spie | Mpie | Spp | Mpp | Mprv | Sum | Mxr | Tvm | Tw | Tsr;
    public const ulong SstatusMask = StatusSie | Spie | Spp | Sum | Mxr | (3UL << 32);

    /// <summary>misa: MXL = 2 (64-bit), extensions A, C, I, M, S, U. Writes are ignored (WARL).</summary>
    public const ulong Misa = (2UL << 62) | (1UL << 0) | (1UL << 2) | (1UL << 8) | (1UL << 12) | (1UL << 18) | (1UL << 20);

    /// <summary>mie/mip bits that exist: SSI, MSI, STI, MTI, SEI, MEI.</summary>
    public const ulong InterruptBits = (1UL << 1) | (1UL << 3) | (1UL << 5) | (1UL << 7) | (1UL << 9) | (1UL << 11);

    /// <summary>Supervisor interrupt bits, the only ones mideleg can delegate.</summary>
    public const ulong SupervisorInterrupts = (1UL << 1) | (1UL << 5) | (1UL << 9);

    /// <summary>Exceptions medeleg can delegate: all but ecall from M (bit 11, read-only zero).</summary>
    public const ulong DelegableExceptions = 0xb3ff & ~(1UL << 11);

    public ulong HartId { get; }

    public ulong Mstatus { get; set; } = XlFields;

    public ulong Medeleg { get; set; }

    public ulong Mideleg { get; set; }

    public ulong Mie { get; set; }

    /// <summary>Software-writable pending bits (SSIP, STIP without Sstc, SEIP); the platform's lines are ORed in.</summary>
    public ulong MipSoftware { get; set; }

    /// <summary>Pending bits driven by the platform: MSIP, MTIP, MEIP, SEIP from the PLIC, STIP from stimecmp.</summary>
    public ulong MipPlatform { get; set; }

    public ulong Mip => MipSoftware | MipPlatform;

    public ulong Mtvec { get; set; }

    public ulong Stvec { get; set; }

    public ulong Mscratch { get; set; }

    public ulong Sscratch { get; set; }

    public ulong Mepc { get; set; }

    public ulong Sepc { get; set; }

    public ulong Mcause { get; set; }

    public ulong Scause { get; set; }

    public ulong Mtval { get; set; }

    public ulong Stval { get; set; }

    public ulong Satp { get; set; }

    public ulong Mcounteren { get; set; }

    public ulong Scounteren { get; set; }

    public ulong Menvcfg { get; set; }

    public ulong Stimecmp { get; set; } = ulong.MaxValue;

    public ulong Mcountinhibit { get; set; }

    /// <summary>PMP registers: accepted and kept as written (WARL), not enforced (DESIGN.md "PMP CSRs (accepted)").</summary>
    public ulong[] PmpCfg { get; } = new ulong[16];

    public ulong[] PmpAddr { get; } = new ulong[64];

    /// <summary>menvcfg.STCE (bit 63): Sstc's stimecmp is enabled for S-mode.</summary>
    public bool SstcEnabled => (Menvcfg >> 63) != 0;
}
