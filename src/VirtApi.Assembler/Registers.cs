namespace VirtApi.Assembler;

/// <summary>Integer register names (numeric and ABI) and CSR names (privileged spec 1.12, chapter 2.2).</summary>
internal static class Registers
{
    private static readonly string[] AbiNames =
    [
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
        "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
    ];

    private static readonly Dictionary<string, int> ByName = BuildRegisters();

    public static readonly Dictionary<string, int> Csrs = BuildCsrs();

    /// <summary>The ABI name objdump prints for register <paramref name="number"/>.</summary>
    public static string Name(int number) => AbiNames[number];

    public static int? Parse(string text) => ByName.TryGetValue(text.Trim(), out var number) ? number : null;

    private static Dictionary<string, int> BuildRegisters()
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < 32; i++)
        {
            map[$"x{i}"] = i;
            map[AbiNames[i]] = i;
        }
        map["fp"] = 8;
        return map;
    }

    private static Dictionary<string, int> BuildCsrs()
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["cycle"] = 0xC00,
            ["time"] = 0xC01,
            ["instret"] = 0xC02,
            ["sstatus"] = 0x100,
            ["sie"] = 0x104,
            ["stvec"] = 0x105,
            ["scounteren"] = 0x106,
            ["senvcfg"] = 0x10A,
            ["sscratch"] = 0x140,
            ["sepc"] = 0x141,
            ["scause"] = 0x142,
            ["stval"] = 0x143,
            ["sip"] = 0x144,
            ["stimecmp"] = 0x14D,
            ["satp"] = 0x180,
            ["mvendorid"] = 0xF11,
            ["marchid"] = 0xF12,
            ["mimpid"] = 0xF13,
            ["mhartid"] = 0xF14,
            ["mconfigptr"] = 0xF15,
            ["mstatus"] = 0x300,
            ["misa"] = 0x301,
            ["medeleg"] = 0x302,
            ["mideleg"] = 0x303,
            ["mie"] = 0x304,
            ["mtvec"] = 0x305,
            ["mcounteren"] = 0x306,
            ["menvcfg"] = 0x30A,
            ["mcountinhibit"] = 0x320,
            ["mscratch"] = 0x340,
            ["mepc"] = 0x341,
            ["mcause"] = 0x342,
            ["mtval"] = 0x343,
            ["mip"] = 0x344,
            ["mseccfg"] = 0x747,
            ["mcycle"] = 0xB00,
            ["minstret"] = 0xB02,
            ["tselect"] = 0x7A0,
            ["tdata1"] = 0x7A1,
            ["tdata2"] = 0x7A2,
            ["tdata3"] = 0x7A3,
            ["dcsr"] = 0x7B0,
            ["dpc"] = 0x7B1,
            ["dscratch0"] = 0x7B2,
            ["dscratch1"] = 0x7B3,
        };
        for (var i = 3; i < 32; i++)
        {
            map[$"hpmcounter{i}"] = 0xC00 + i;
            map[$"mhpmcounter{i}"] = 0xB00 + i;
            map[$"mhpmevent{i}"] = 0x320 + i;
        }
        for (var i = 0; i < 16; i++)
        {
            map[$"pmpcfg{i}"] = 0x3A0 + i;
        }
        for (var i = 0; i < 64; i++)
        {
            map[$"pmpaddr{i}"] = 0x3B0 + i;
        }
        return map;
    }
}
