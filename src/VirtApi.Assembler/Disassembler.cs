using System.Buffers.Binary;
using System.Globalization;

namespace VirtApi.Assembler;

/// <summary>
/// Decodes one RV64IMAC/Zicsr/Zifencei/privileged instruction (16 or 32 bits) to the spelling of
/// <c>riscv64-unknown-elf-objdump -d</c>: mnemonic, a tab, operands separated by commas with ABI
/// register names, CSRs by name, branch and jump targets as absolute hex addresses. By default it
/// uses objdump's aliases (<c>li</c>, <c>mv</c>, <c>ret</c>, <c>beqz</c> …); with
/// <c>aliases: false</c> it spells the base instruction, as <c>-M no-aliases</c> does.
/// </summary>
public static class Disassembler
{
    /// <summary>Disassembles with objdump's default aliases.</summary>
    public static string Disassemble(ReadOnlySpan<byte> code, ulong pc, out int length) =>
        Disassemble(code, pc, out length, aliases: true);

    private static readonly Dictionary<int, string> CsrNames =
        Registers.Csrs.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.First().Key);

    public static string Disassemble(ReadOnlySpan<byte> code, ulong pc, out int length, bool aliases)
    {
        if (code.Length < 2)
        {
            length = code.Length;
            return "(truncated)";
        }
        // The length is in the low bits (spec 1.5, "Base Instruction-Length Encoding"): 11 is 32 bits, else 16.
        if ((code[0] & 3) != 3)
        {
            length = 2;
            var half = BinaryPrimitives.ReadUInt16LittleEndian(code);
            return DecodeCompressed(half, pc, aliases) ?? $".insn\t2, 0x{half:x}";
        }
        if (code.Length < 4)
        {
            length = code.Length;
            return "(truncated)";
        }
        length = 4;
        var inst = BinaryPrimitives.ReadUInt32LittleEndian(code);
        var text = Decode(inst, pc);
        if (text is null)
        {
            return $".insn\t4, 0x{inst:x}";
        }
        return aliases ? Alias(text) : text;
    }

    /// <summary>objdump's preferred alias for a base spelling (binutils riscv-opc.c, the INSN_ALIAS entries).</summary>
    private static string Alias(string text)
    {
        var tab = text.IndexOf('\t', StringComparison.Ordinal);
        if (tab < 0)
        {
            return text;
        }
        var name = text[..tab];
        var ops = text[(tab + 1)..].Split(',');
        return (name, ops) switch
        {
            ("addi", ["zero", "zero", "0"]) => "nop",
            ("addi", [var rd, "zero", var imm]) => $"li\t{rd},{imm}",
            ("addi", [var rd, var rs, "0"]) => $"mv\t{rd},{rs}",
            ("addiw", [var rd, var rs, "0"]) => $"sext.w\t{rd},{rs}",
            ("xori", [var rd, var rs, "-1"]) => $"not\t{rd},{rs}",
            ("sub", [var rd, "zero", var rs]) => $"neg\t{rd},{rs}",
            ("subw", [var rd, "zero", var rs]) => $"negw\t{rd},{rs}",
            ("sltiu", [var rd, var rs, "1"]) => $"seqz\t{rd},{rs}",
            ("sltu", [var rd, "zero", var rs]) => $"snez\t{rd},{rs}",
            ("slt", [var rd, var rs, "zero"]) => $"sltz\t{rd},{rs}",
            ("slt", [var rd, "zero", var rs]) => $"sgtz\t{rd},{rs}",
            ("beq", [var rs, "zero", var target]) => $"beqz\t{rs},{target}",
            ("bne", [var rs, "zero", var target]) => $"bnez\t{rs},{target}",
            ("bge", ["zero", var rs, var target]) => $"blez\t{rs},{target}",
            ("bge", [var rs, "zero", var target]) => $"bgez\t{rs},{target}",
            ("blt", [var rs, "zero", var target]) => $"bltz\t{rs},{target}",
            ("blt", ["zero", var rs, var target]) => $"bgtz\t{rs},{target}",
            ("jal", ["zero", var target]) => $"j\t{target}",
            ("jal", ["ra", var target]) => $"jal\t{target}",
            ("jalr", ["zero", "0(ra)"]) => "ret",
            ("jalr", ["zero", var target]) when target.StartsWith("0(", StringComparison.Ordinal) => $"jr\t{target[2..^1]}",
            ("jalr", ["zero", var target]) => $"jr\t{target}",
            ("andi", [var rd, var rs, "255"]) => $"zext.b\t{rd},{rs}",
            ("jalr", ["ra", var target]) when target.StartsWith("0(", StringComparison.Ordinal) => $"jalr\t{target[2..^1]}",
            ("jalr", ["ra", var target]) => $"jalr\t{target}",
            ("jalr", [var rd, var target]) when target.StartsWith("0(", StringComparison.Ordinal) => $"jalr\t{rd},{target[2..^1]}",
            ("csrrs", [var rd, "cycle", "zero"]) => $"rdcycle\t{rd}",
            ("csrrs", [var rd, "time", "zero"]) => $"rdtime\t{rd}",
            ("csrrs", [var rd, "instret", "zero"]) => $"rdinstret\t{rd}",
            ("csrrs", [var rd, var csr, "zero"]) => $"csrr\t{rd},{csr}",
            ("csrrw", ["zero", var csr, var rs]) => $"csrw\t{csr},{rs}",
            ("csrrs", ["zero", var csr, var rs]) => $"csrs\t{csr},{rs}",
            ("csrrc", ["zero", var csr, var rs]) => $"csrc\t{csr},{rs}",
            ("csrrwi", ["zero", var csr, var imm]) => $"csrw\t{csr},{imm}",
            ("csrrsi", ["zero", var csr, var imm]) => $"csrs\t{csr},{imm}",
            ("csrrci", ["zero", var csr, var imm]) => $"csrc\t{csr},{imm}",
            ("fence", ["iorw", "iorw"]) => "fence",
            ("sfence.vma", ["zero", "zero"]) => "sfence.vma",
            ("sfence.vma", [var rs, "zero"]) => $"sfence.vma\t{rs}",
            // The remaining immediate ALU forms take the register form's name: binutils lists
            // "add", "xor", "sll" … with an immediate operand as aliases of addi, xori, slli ….
            _ when RegisterFormNames.TryGetValue(name, out var registerForm) => $"{registerForm}\t{string.Join(',', ops)}",
            _ => text,
        };
    }

    private static readonly Dictionary<string, string> RegisterFormNames = new(StringComparer.Ordinal)
    {
        ["addi"] = "add",
        ["xori"] = "xor",
        ["ori"] = "or",
        ["andi"] = "and",
        ["slli"] = "sll",
        ["srli"] = "srl",
        ["srai"] = "sra",
        ["addiw"] = "addw",
        ["slliw"] = "sllw",
        ["srliw"] = "srlw",
        ["sraiw"] = "sraw",
        ["csrrwi"] = "csrrw",
        ["csrrsi"] = "csrrs",
        ["csrrci"] = "csrrc",
    };

    private static string R(uint inst, int shift) => Registers.Name((int)((inst >> shift) & 0x1f));

    private static string Hex(ulong value) => value.ToString("x", CultureInfo.InvariantCulture);

    private static string? Decode(uint inst, ulong pc)
    {
        var rd = R(inst, 7);
        var rs1 = R(inst, 15);
        var rs2 = R(inst, 20);
        var funct3 = (inst >> 12) & 7;
        var funct7 = inst >> 25;
        var immI = (int)inst >> 20;
        var immS = ((int)inst >> 25 << 5) | (int)((inst >> 7) & 0x1f);
        switch (inst & 0x7f)
        {
            case 0x37: return $"lui\t{rd},0x{Hex((inst >> 12) & 0xfffff)}";
            case 0x17: return $"auipc\t{rd},0x{Hex((inst >> 12) & 0xfffff)}";
            case 0x6f:
                {
                    var offset = ((int)inst >> 31 << 20) | (int)(inst & 0xff000) | (int)(((inst >> 20) & 1) << 11) | (int)(((inst >> 21) & 0x3ff) << 1);
                    return $"jal\t{rd},{Hex(pc + (ulong)(long)offset)}";
                }
            case 0x67 when funct3 == 0: return $"jalr\t{rd},{immI}({rs1})";
            case 0x63:
                {
                    string[] names = ["beq", "bne", "", "", "blt", "bge", "bltu", "bgeu"];
                    var offset = ((int)inst >> 31 << 12) | (int)(((inst >> 7) & 1) << 11) | (int)(((inst >> 25) & 0x3f) << 5) | (int)(((inst >> 8) & 0xf) << 1);
                    return names[funct3].Length == 0 ? null : $"{names[funct3]}\t{rs1},{rs2},{Hex(pc + (ulong)(long)offset)}";
                }
            case 0x03:
                {
                    string[] names = ["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu", ""];
                    return names[funct3].Length == 0 ? null : $"{names[funct3]}\t{rd},{immI}({rs1})";
                }
            case 0x23:
                {
                    string[] names = ["sb", "sh", "sw", "sd"];
                    return funct3 > 3 ? null : $"{names[funct3]}\t{rs2},{immS}({rs1})";
                }
            case 0x13:
                return funct3 switch
                {
                    0 => $"addi\t{rd},{rs1},{immI}",
                    2 => $"slti\t{rd},{rs1},{immI}",
                    3 => $"sltiu\t{rd},{rs1},{immI}",
                    4 => $"xori\t{rd},{rs1},{immI}",
                    6 => $"ori\t{rd},{rs1},{immI}",
                    7 => $"andi\t{rd},{rs1},{immI}",
                    1 when inst >> 26 == 0 => $"slli\t{rd},{rs1},0x{Hex((inst >> 20) & 0x3f)}",
                    5 when inst >> 26 == 0 => $"srli\t{rd},{rs1},0x{Hex((inst >> 20) & 0x3f)}",
                    5 when inst >> 26 == 0x10 => $"srai\t{rd},{rs1},0x{Hex((inst >> 20) & 0x3f)}",
                    _ => null,
                };
            case 0x1b:
                return (funct3, funct7) switch
                {
                    (0, _) => $"addiw\t{rd},{rs1},{immI}",
                    (1, 0) => $"slliw\t{rd},{rs1},0x{Hex((inst >> 20) & 0x1f)}",
                    (5, 0) => $"srliw\t{rd},{rs1},0x{Hex((inst >> 20) & 0x1f)}",
                    (5, 0x20) => $"sraiw\t{rd},{rs1},0x{Hex((inst >> 20) & 0x1f)}",
                    _ => null,
                };
            case 0x33 or 0x3b:
                {
                    var word = (inst & 0x7f) == 0x3b;
                    var name = (funct7, funct3) switch
                    {
                        (0, 0) => "add",
                        (0x20, 0) => "sub",
                        (0, 1) => "sll",
                        (0, 2) => "slt",
                        (0, 3) => "sltu",
                        (0, 4) => "xor",
                        (0, 5) => "srl",
                        (0x20, 5) => "sra",
                        (0, 6) => "or",
                        (0, 7) => "and",
                        (1, 0) => "mul",
                        (1, 1) => "mulh",
                        (1, 2) => "mulhsu",
                        (1, 3) => "mulhu",
                        (1, 4) => "div",
                        (1, 5) => "divu",
                        (1, 6) => "rem",
                        (1, 7) => "remu",
                        _ => null,
                    };
                    // OP-32 has only the W forms of add, sub, sll, srl, sra, mul, div, divu, rem and remu.
                    if (name is null || (word && name is not ("add" or "sub" or "sll" or "srl" or "sra" or "mul" or "div" or "divu" or "rem" or "remu")))
                    {
                        return null;
                    }
                    return $"{name}{(word ? "w" : "")}\t{rd},{rs1},{rs2}";
                }
            case 0x2f when funct3 is 2 or 3:
                {
                    var width = funct3 == 2 ? "w" : "d";
                    var ordering = ((inst >> 25) & 3) switch { 1 => ".rl", 2 => ".aq", 3 => ".aqrl", _ => "" };
                    var name = (inst >> 27) switch
                    {
                        0x02 => "lr",
                        0x03 => "sc",
                        0x01 => "amoswap",
                        0x00 => "amoadd",
                        0x04 => "amoxor",
                        0x0c => "amoand",
                        0x08 => "amoor",
                        0x10 => "amomin",
                        0x14 => "amomax",
                        0x18 => "amominu",
                        0x1c => "amomaxu",
                        _ => null,
                    };
                    return name switch
                    {
                        null => null,
                        "lr" => $"lr.{width}{ordering}\t{rd},({rs1})",
                        _ => $"{name}.{width}{ordering}\t{rd},{rs2},({rs1})",
                    };
                }
            case 0x0f:
                return funct3 switch
                {
                    1 => "fence.i",
                    0 when inst == 0x8330000f => "fence.tso",
                    0 => $"fence\t{FenceSet((inst >> 24) & 0xf)},{FenceSet((inst >> 20) & 0xf)}",
                    _ => null,
                };
            case 0x73:
                {
                    if (funct3 == 0)
                    {
                        return inst switch
                        {
                            0x00000073 => "ecall",
                            0x00100073 => "ebreak",
                            0x10200073 => "sret",
                            0x30200073 => "mret",
                            0x10500073 => "wfi",
                            _ when (inst & 0xfe007fff) == 0x12000073 => $"sfence.vma\t{rs1},{rs2}",
                            _ => null,
                        };
                    }
                    var csr = (int)(inst >> 20);
                    var csrName = CsrNames.TryGetValue(csr, out var n) ? n : $"0x{Hex((ulong)csr)}";
                    string[] names = ["", "csrrw", "csrrs", "csrrc", "", "csrrwi", "csrrsi", "csrrci"];
                    if (names[funct3].Length == 0)
                    {
                        return null;
                    }
                    var source = funct3 >= 5 ? ((inst >> 15) & 0x1f).ToString(CultureInfo.InvariantCulture) : rs1;
                    return $"{names[funct3]}\t{rd},{csrName},{source}";
                }
            default:
                return null;
        }
    }

    /// <summary>
    /// A 16-bit RV64C instruction (spec chapter 16, table 16.5-16.7) in objdump's spelling: with
    /// no-aliases the <c>c.</c> name and its own operands; by default the first entry of binutils
    /// riscv-opc.c that matches, which spells most as the instruction they expand to (<c>c.addi a0,1</c>
    /// is <c>add a0,a0,1</c>, <c>c.jr ra</c> is <c>ret</c>). Hints with rd = x0 keep the c. name.
    /// Reserved encodings give null.
    /// </summary>
    private static string? DecodeCompressed(ushort h, ulong pc, bool aliases)
    {
        uint i = h;
        var funct3 = i >> 13;
        var rd = (int)((i >> 7) & 0x1f);
        var rs2 = (int)((i >> 2) & 0x1f);
        var rdPrime = Registers.Name((int)(((i >> 7) & 7) + 8));
        var rs2Prime = Registers.Name((int)(((i >> 2) & 7) + 8));
        var imm6 = (int)((((i >> 12) & 1) << 5) | ((i >> 2) & 0x1f));
        var simm6 = imm6 >= 32 ? imm6 - 64 : imm6;
        string Both(string compressed, string alias) => aliases ? alias : compressed;
        switch ((i & 3, funct3))
        {
            case (0, 0):
                {
                    var imm = (((i >> 11) & 3) << 4) | (((i >> 7) & 0xf) << 6) | (((i >> 6) & 1) << 2) | (((i >> 5) & 1) << 3);
                    return imm == 0 ? null : Both($"c.addi4spn\t{rs2Prime},sp,{imm}", $"add\t{rs2Prime},sp,{imm}");
                }
            case (0, 2 or 3 or 6 or 7):
                {
                    var word = (funct3 & 1) == 0;
                    var imm = (((i >> 10) & 7) << 3) | (word ? (((i >> 6) & 1) << 2) | (((i >> 5) & 1) << 6) : ((i >> 5) & 3) << 6);
                    var name = (funct3 >= 6 ? "s" : "l") + (word ? "w" : "d");
                    var operands = $"{rs2Prime},{imm}({rdPrime})";
                    return Both($"c.{name}\t{operands}", $"{name}\t{operands}");
                }
            case (1, 0):
                if (h == 0x0001)
                {
                    return Both("c.addi\tzero,0", "nop");
                }
                return (aliases, rd) switch
                {
                    (false, _) => $"c.addi\t{Registers.Name(rd)},{simm6}",
                    (true, 0) => $"c.nop\t{simm6}", // the HINT c.addi x0, nzimm (binutils lists it as c.nop with an immediate)
                    _ => $"add\t{Registers.Name(rd)},{Registers.Name(rd)},{simm6}",
                };
            case (1, 1):
                if (rd == 0)
                {
                    return null;
                }
                return Both($"c.addiw\t{Registers.Name(rd)},{simm6}", simm6 == 0 ? $"sext.w\t{Registers.Name(rd)},{Registers.Name(rd)}" : $"addw\t{Registers.Name(rd)},{Registers.Name(rd)},{simm6}");
            case (1, 2):
                return aliases && rd != 0 ? $"li\t{Registers.Name(rd)},{simm6}" : $"c.li\t{Registers.Name(rd)},{simm6}";
            case (1, 3) when rd == 2:
                {
                    var imm = (int)((((i >> 12) & 1) << 9) | (((i >> 6) & 1) << 4) | (((i >> 5) & 1) << 6) | (((i >> 3) & 3) << 7) | (((i >> 2) & 1) << 5));
                    imm = imm >= 512 ? imm - 1024 : imm;
                    return imm == 0 ? null : Both($"c.addi16sp\tsp,{imm}", $"add\tsp,sp,{imm}");
                }
            case (1, 3):
                {
                    if (imm6 == 0)
                    {
                        return null;
                    }
                    var upper = Hex((ulong)simm6 & 0xfffff);
                    return aliases && rd != 0 ? $"lui\t{Registers.Name(rd)},0x{upper}" : $"c.lui\t{Registers.Name(rd)},0x{upper}";
                }
            case (1, 4):
                {
                    var kind = (i >> 10) & 3;
                    if (kind < 2)
                    {
                        var name = kind == 0 ? "srli" : "srai";
                        return imm6 == 0 ? null : Both($"c.{name}\t{rdPrime},0x{Hex((ulong)imm6)}", $"{name[..3]}\t{rdPrime},{rdPrime},0x{Hex((ulong)imm6)}");
                    }
                    if (kind == 2)
                    {
                        return Both($"c.andi\t{rdPrime},{simm6}", $"and\t{rdPrime},{rdPrime},{simm6}");
                    }
                    string?[] names = ["sub", "xor", "or", "and", "subw", "addw", null, null];
                    var op = names[(((i >> 12) & 1) << 2) | ((i >> 5) & 3)];
                    return op is null ? null : Both($"c.{op}\t{rdPrime},{rs2Prime}", $"{op}\t{rdPrime},{rdPrime},{rs2Prime}");
                }
            case (1, 5):
                {
                    var offset = (int)((((i >> 12) & 1) << 11) | (((i >> 11) & 1) << 4) | (((i >> 9) & 3) << 8) | (((i >> 8) & 1) << 10)
                        | (((i >> 7) & 1) << 6) | (((i >> 6) & 1) << 7) | (((i >> 3) & 7) << 1) | (((i >> 2) & 1) << 5));
                    offset = offset >= 2048 ? offset - 4096 : offset;
                    var target = Hex(pc + (ulong)(long)offset);
                    return Both($"c.j\t{target}", $"j\t{target}");
                }
            case (1, 6 or 7):
                {
                    var offset = (int)((((i >> 12) & 1) << 8) | (((i >> 10) & 3) << 3) | (((i >> 5) & 3) << 6) | (((i >> 3) & 3) << 1) | (((i >> 2) & 1) << 5));
                    offset = offset >= 256 ? offset - 512 : offset;
                    var name = funct3 == 6 ? "beqz" : "bnez";
                    var operands = $"{rdPrime},{Hex(pc + (ulong)(long)offset)}";
                    return Both($"c.{name}\t{operands}", $"{name}\t{operands}");
                }
            case (2, 0):
                if (imm6 == 0)
                {
                    return null;
                }
                return aliases && rd != 0 ? $"sll\t{Registers.Name(rd)},{Registers.Name(rd)},0x{Hex((ulong)imm6)}" : $"c.slli\t{Registers.Name(rd)},0x{Hex((ulong)imm6)}";
            case (2, 2 or 3):
                {
                    if (rd == 0)
                    {
                        return null;
                    }
                    var word = funct3 == 2;
                    var imm = (((i >> 12) & 1) << 5) | (word ? (((i >> 4) & 7) << 2) | (((i >> 2) & 3) << 6) : (((i >> 5) & 3) << 3) | (((i >> 2) & 7) << 6));
                    var name = word ? "lw" : "ld";
                    var operands = $"{Registers.Name(rd)},{imm}(sp)";
                    return Both($"c.{name}sp\t{operands}", $"{name}\t{operands}");
                }
            case (2, 4):
                {
                    var high = ((i >> 12) & 1) == 1;
                    var r = Registers.Name(rd);
                    return (high, rd, rs2) switch
                    {
                        (false, 0, 0) => null,
                        (false, 1, 0) => Both("c.jr\tra", "ret"),
                        (false, _, 0) => Both($"c.jr\t{r}", $"jr\t{r}"),
                        (false, _, _) => aliases && rd != 0 ? $"mv\t{r},{Registers.Name(rs2)}" : $"c.mv\t{r},{Registers.Name(rs2)}",
                        (true, 0, 0) => Both("c.ebreak", "ebreak"),
                        (true, _, 0) => Both($"c.jalr\t{r}", $"jalr\t{r}"),
                        (true, _, _) => aliases && rd != 0 ? $"add\t{r},{r},{Registers.Name(rs2)}" : $"c.add\t{r},{Registers.Name(rs2)}",
                    };
                }
            case (2, 6 or 7):
                {
                    var word = funct3 == 6;
                    var imm = word ? (((i >> 9) & 0xf) << 2) | (((i >> 7) & 3) << 6) : (((i >> 10) & 7) << 3) | (((i >> 7) & 7) << 6);
                    var name = word ? "sw" : "sd";
                    var operands = $"{Registers.Name(rs2)},{imm}(sp)";
                    return Both($"c.{name}sp\t{operands}", $"{name}\t{operands}");
                }
            default:
                return null;
        }
    }

    private static string FenceSet(uint bits) =>
        string.Concat((bits & 8) != 0 ? "i" : "", (bits & 4) != 0 ? "o" : "", (bits & 2) != 0 ? "r" : "", (bits & 1) != 0 ? "w" : "") is { Length: > 0 } s ? s : "0";
}
