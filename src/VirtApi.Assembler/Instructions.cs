namespace VirtApi.Assembler;

/// <summary>
/// The instruction set: RV64I, M, A, Zicsr, Zifencei and the privileged instructions, with the
/// pseudo-instructions of the RISC-V assembly manual. Encodings follow the unprivileged spec
/// (20191213), chapter 2 "RV32I Base Integer Instruction Set" and its RV64 and extension chapters.
/// </summary>
internal static class Instructions
{
    public const uint Nop = 0x00000013;

    private enum Kind
    {
        R, I, Shift64, Shift32, Load, Store, Branch, Upper, Jal, Jalr, Csr, CsrImmediate, Fixed, Fence, SfenceVma, Lr, Sc, Amo,
    }

    private sealed record Definition(Kind Kind, uint Match);

    private static readonly Dictionary<string, Definition> Table = Build();

    public static bool IsKnown(string mnemonic) => Table.ContainsKey(mnemonic) || Pseudos.Contains(mnemonic);

    private static readonly HashSet<string> Pseudos =
    [
        "nop", "li", "la", "lla", "mv", "not", "neg", "negw", "sext.w", "seqz", "snez", "sltz", "sgtz",
        "beqz", "bnez", "blez", "bgez", "bltz", "bgtz", "bgt", "ble", "bgtu", "bleu", "j", "jr", "ret", "call", "tail",
        "csrr", "csrw", "csrs", "csrc", "csrwi", "csrsi", "csrci", "rdcycle", "rdtime", "rdinstret", "fence",
    ];

    private static Dictionary<string, Definition> Build()
    {
        var t = new Dictionary<string, Definition>(StringComparer.Ordinal);
        void R(string name, uint funct7, uint funct3, uint opcode) => t[name] = new(Kind.R, (funct7 << 25) | (funct3 << 12) | opcode);
        void I(string name, uint funct3, uint opcode, Kind kind = Kind.I) => t[name] = new(kind, (funct3 << 12) | opcode);

        // RV64I register-register (OP 0x33, OP-32 0x3b).
        R("add", 0x00, 0, 0x33); R("sub", 0x20, 0, 0x33); R("sll", 0x00, 1, 0x33); R("slt", 0x00, 2, 0x33);
        R("sltu", 0x00, 3, 0x33); R("xor", 0x00, 4, 0x33); R("srl", 0x00, 5, 0x33); R("sra", 0x20, 5, 0x33);
        R("or", 0x00, 6, 0x33); R("and", 0x00, 7, 0x33);
        R("addw", 0x00, 0, 0x3b); R("subw", 0x20, 0, 0x3b); R("sllw", 0x00, 1, 0x3b); R("srlw", 0x00, 5, 0x3b); R("sraw", 0x20, 5, 0x3b);
        // M extension.
        R("mul", 0x01, 0, 0x33); R("mulh", 0x01, 1, 0x33); R("mulhsu", 0x01, 2, 0x33); R("mulhu", 0x01, 3, 0x33);
        R("div", 0x01, 4, 0x33); R("divu", 0x01, 5, 0x33); R("rem", 0x01, 6, 0x33); R("remu", 0x01, 7, 0x33);
        R("mulw", 0x01, 0, 0x3b); R("divw", 0x01, 4, 0x3b); R("divuw", 0x01, 5, 0x3b); R("remw", 0x01, 6, 0x3b); R("remuw", 0x01, 7, 0x3b);
        // Register-immediate (OP-IMM 0x13, OP-IMM-32 0x1b).
        I("addi", 0, 0x13); I("slti", 2, 0x13); I("sltiu", 3, 0x13); I("xori", 4, 0x13); I("ori", 6, 0x13); I("andi", 7, 0x13);
        I("addiw", 0, 0x1b);
        t["slli"] = new(Kind.Shift64, (1u << 12) | 0x13);
        t["srli"] = new(Kind.Shift64, (5u << 12) | 0x13);
        t["srai"] = new(Kind.Shift64, (0x10u << 26) | (5u << 12) | 0x13);
        t["slliw"] = new(Kind.Shift32, (1u << 12) | 0x1b);
        t["srliw"] = new(Kind.Shift32, (5u << 12) | 0x1b);
        t["sraiw"] = new(Kind.Shift32, (0x20u << 25) | (5u << 12) | 0x1b);
        // Loads and stores.
        I("lb", 0, 0x03, Kind.Load); I("lh", 1, 0x03, Kind.Load); I("lw", 2, 0x03, Kind.Load); I("ld", 3, 0x03, Kind.Load);
        I("lbu", 4, 0x03, Kind.Load); I("lhu", 5, 0x03, Kind.Load); I("lwu", 6, 0x03, Kind.Load);
        I("sb", 0, 0x23, Kind.Store); I("sh", 1, 0x23, Kind.Store); I("sw", 2, 0x23, Kind.Store); I("sd", 3, 0x23, Kind.Store);
        // Control transfer.
        I("beq", 0, 0x63, Kind.Branch); I("bne", 1, 0x63, Kind.Branch); I("blt", 4, 0x63, Kind.Branch);
        I("bge", 5, 0x63, Kind.Branch); I("bltu", 6, 0x63, Kind.Branch); I("bgeu", 7, 0x63, Kind.Branch);
        t["lui"] = new(Kind.Upper, 0x37);
        t["auipc"] = new(Kind.Upper, 0x17);
        t["jal"] = new(Kind.Jal, 0x6f);
        t["jalr"] = new(Kind.Jalr, 0x67);
        // System, privileged and fences.
        t["ecall"] = new(Kind.Fixed, 0x00000073);
        t["ebreak"] = new(Kind.Fixed, 0x00100073);
        t["sret"] = new(Kind.Fixed, 0x10200073);
        t["mret"] = new(Kind.Fixed, 0x30200073);
        t["wfi"] = new(Kind.Fixed, 0x10500073);
        t["fence.i"] = new(Kind.Fixed, 0x0000100f);
        t["fence.tso"] = new(Kind.Fixed, 0x8330000f);
        t["pause"] = new(Kind.Fixed, 0x0100000f);
        t["sfence.vma"] = new(Kind.SfenceVma, 0x12000073);
        t["fence"] = new(Kind.Fence, 0x0000000f);
        // Zicsr.
        I("csrrw", 1, 0x73, Kind.Csr); I("csrrs", 2, 0x73, Kind.Csr); I("csrrc", 3, 0x73, Kind.Csr);
        I("csrrwi", 5, 0x73, Kind.CsrImmediate); I("csrrsi", 6, 0x73, Kind.CsrImmediate); I("csrrci", 7, 0x73, Kind.CsrImmediate);
        // A extension (AMO opcode 0x2f, funct5 in bits 31:27, aq bit 26, rl bit 25).
        foreach (var (width, funct3) in new[] { ("w", 2u), ("d", 3u) })
        {
            foreach (var (ordering, bits) in new[] { ("", 0u), (".aq", 2u), (".rl", 1u), (".aqrl", 3u) })
            {
                t[$"lr.{width}{ordering}"] = new(Kind.Lr, (0x02u << 27) | (bits << 25) | (funct3 << 12) | 0x2f);
                t[$"sc.{width}{ordering}"] = new(Kind.Sc, (0x03u << 27) | (bits << 25) | (funct3 << 12) | 0x2f);
                foreach (var (op, funct5) in new[]
                {
                    ("amoswap", 0x01u), ("amoadd", 0x00u), ("amoxor", 0x04u), ("amoand", 0x0cu), ("amoor", 0x08u),
                    ("amomin", 0x10u), ("amomax", 0x14u), ("amominu", 0x18u), ("amomaxu", 0x1cu),
                })
                {
                    t[$"{op}.{width}{ordering}"] = new(Kind.Amo, (funct5 << 27) | (bits << 25) | (funct3 << 12) | 0x2f);
                }
            }
        }
        return t;
    }

    /// <summary>The words of one instruction or pseudo-instruction at the run's current address.</summary>
    public static List<uint> Expand(AssemblyRun run, Statement s)
    {
        var ops = s.Operands;
        var words = new List<uint>(2);
        var m = s.Mnemonic;

        // Pseudo-instructions (RISC-V Assembly Programmer's Manual, "Pseudoinstructions").
        switch (m)
        {
            case "nop": Count(run, s, 0); words.Add(Nop); return words;
            case "li":
                if (Count(run, s, 2))
                {
                    LoadImmediate(words, run.Reg(s, ops[0]), run.Imm(s, ops[1]));
                }
                return words;
            case "la" or "lla":
                if (Count(run, s, 2))
                {
                    var rd = run.Reg(s, ops[0]);
                    var offset = run.Imm(s, ops[1]) - run.Pc;
                    words.Add(EncodeU(0x17, rd, PcrelHi(run, s, ops[1], offset)));
                    words.Add(EncodeI(0x13, 0, rd, rd, ExpressionParser.SignExtend12(offset)));
                }
                return words;
            case "call" or "tail":
                if (ops.Count is 1 or 2 && (m == "call" || ops.Count == 1))
                {
                    var link = m == "call" ? 1 : 0;
                    var scratch = m == "call" ? (ops.Count == 2 ? run.Reg(s, ops[0]) : 1) : 6; // ra for call, t1 for tail
                    if (ops.Count == 2)
                    {
                        link = scratch;
                    }
                    var target = ops[^1];
                    var offset = run.Imm(s, target) - run.Pc;
                    words.Add(EncodeU(0x17, scratch, PcrelHi(run, s, target, offset)));
                    words.Add(EncodeI(0x67, 0, link, scratch, ExpressionParser.SignExtend12(offset)));
                }
                else
                {
                    run.OperandCountError(s, m == "call" ? "a target (or rd, target)" : "a target");
                }
                return words;
            case "mv": return Alias(run, s, 2, o => EncodeI(0x13, 0, run.Reg(s, o[0]), run.Reg(s, o[1]), 0), words);
            case "not": return Alias(run, s, 2, o => EncodeI(0x13, 4, run.Reg(s, o[0]), run.Reg(s, o[1]), -1), words);
            case "neg": return Alias(run, s, 2, o => EncodeR(Table["sub"].Match, run.Reg(s, o[0]), 0, run.Reg(s, o[1])), words);
            case "negw": return Alias(run, s, 2, o => EncodeR(Table["subw"].Match, run.Reg(s, o[0]), 0, run.Reg(s, o[1])), words);
            case "sext.w": return Alias(run, s, 2, o => EncodeI(0x1b, 0, run.Reg(s, o[0]), run.Reg(s, o[1]), 0), words);
            case "seqz": return Alias(run, s, 2, o => EncodeI(0x13, 3, run.Reg(s, o[0]), run.Reg(s, o[1]), 1), words);
            case "snez": return Alias(run, s, 2, o => EncodeR(Table["sltu"].Match, run.Reg(s, o[0]), 0, run.Reg(s, o[1])), words);
            case "sltz": return Alias(run, s, 2, o => EncodeR(Table["slt"].Match, run.Reg(s, o[0]), run.Reg(s, o[1]), 0), words);
            case "sgtz": return Alias(run, s, 2, o => EncodeR(Table["slt"].Match, run.Reg(s, o[0]), 0, run.Reg(s, o[1])), words);
            case "beqz": return Alias(run, s, 2, o => Branch(run, s, 0, run.Reg(s, o[0]), 0, o[1]), words);
            case "bnez": return Alias(run, s, 2, o => Branch(run, s, 1, run.Reg(s, o[0]), 0, o[1]), words);
            case "blez": return Alias(run, s, 2, o => Branch(run, s, 5, 0, run.Reg(s, o[0]), o[1]), words);
            case "bgez": return Alias(run, s, 2, o => Branch(run, s, 5, run.Reg(s, o[0]), 0, o[1]), words);
            case "bltz": return Alias(run, s, 2, o => Branch(run, s, 4, run.Reg(s, o[0]), 0, o[1]), words);
            case "bgtz": return Alias(run, s, 2, o => Branch(run, s, 4, 0, run.Reg(s, o[0]), o[1]), words);
            case "bgt": return Alias(run, s, 3, o => Branch(run, s, 4, run.Reg(s, o[1]), run.Reg(s, o[0]), o[2]), words);
            case "ble": return Alias(run, s, 3, o => Branch(run, s, 5, run.Reg(s, o[1]), run.Reg(s, o[0]), o[2]), words);
            case "bgtu": return Alias(run, s, 3, o => Branch(run, s, 6, run.Reg(s, o[1]), run.Reg(s, o[0]), o[2]), words);
            case "bleu": return Alias(run, s, 3, o => Branch(run, s, 7, run.Reg(s, o[1]), run.Reg(s, o[0]), o[2]), words);
            case "j": return Alias(run, s, 1, o => Jal(run, s, 0, o[0]), words);
            case "jr": return Alias(run, s, 1, o => EncodeI(0x67, 0, 0, run.Reg(s, o[0]), 0), words);
            case "ret": return Alias(run, s, 0, _ => EncodeI(0x67, 0, 0, 1, 0), words);
            case "csrr": return Alias(run, s, 2, o => Csr(2, run.Reg(s, o[0]), run.CsrNumber(s, o[1]), 0), words);
            case "csrw": return Alias(run, s, 2, o => Csr(1, 0, run.CsrNumber(s, o[0]), run.Reg(s, o[1])), words);
            case "csrs": return Alias(run, s, 2, o => Csr(2, 0, run.CsrNumber(s, o[0]), run.Reg(s, o[1])), words);
            case "csrc": return Alias(run, s, 2, o => Csr(3, 0, run.CsrNumber(s, o[0]), run.Reg(s, o[1])), words);
            case "csrwi": return Alias(run, s, 2, o => Csr(5, 0, run.CsrNumber(s, o[0]), run.Uimm5(s, o[1])), words);
            case "csrsi": return Alias(run, s, 2, o => Csr(6, 0, run.CsrNumber(s, o[0]), run.Uimm5(s, o[1])), words);
            case "csrci": return Alias(run, s, 2, o => Csr(7, 0, run.CsrNumber(s, o[0]), run.Uimm5(s, o[1])), words);
            case "rdcycle": return Alias(run, s, 1, o => Csr(2, run.Reg(s, o[0]), 0xC00, 0), words);
            case "rdtime": return Alias(run, s, 1, o => Csr(2, run.Reg(s, o[0]), 0xC01, 0), words);
            case "rdinstret": return Alias(run, s, 1, o => Csr(2, run.Reg(s, o[0]), 0xC02, 0), words);
        }

        if (!Table.TryGetValue(m, out var d))
        {
            run.Fail(s, s.Column, $"unknown instruction '{m}'");
            return words;
        }
        switch (d.Kind)
        {
            case Kind.R:
                if (Count(run, s, 3))
                {
                    words.Add(EncodeR(d.Match, run.Reg(s, ops[0]), run.Reg(s, ops[1]), run.Reg(s, ops[2])));
                }
                break;
            case Kind.I:
                if (Count(run, s, 3))
                {
                    words.Add(d.Match | (uint)(run.Reg(s, ops[0]) << 7) | (uint)(run.Reg(s, ops[1]) << 15) | ((uint)run.Simm12(s, ops[2]) << 20));
                }
                break;
            case Kind.Shift64 or Kind.Shift32:
                if (Count(run, s, 3))
                {
                    var max = d.Kind == Kind.Shift64 ? 63 : 31;
                    var amount = run.Imm(s, ops[2]);
                    if (amount < 0 || amount > max)
                    {
                        run.Fail(s, ops[2].Column, $"shift amount {amount} out of range [0, {max}]");
                    }
                    words.Add(d.Match | (uint)(run.Reg(s, ops[0]) << 7) | (uint)(run.Reg(s, ops[1]) << 15) | ((uint)(amount & max) << 20));
                }
                break;
            case Kind.Load:
                if (Count(run, s, 2))
                {
                    var (offset, rs1) = run.Memory(s, ops[1]);
                    words.Add(d.Match | (uint)(run.Reg(s, ops[0]) << 7) | (uint)(rs1 << 15) | ((uint)offset << 20));
                }
                break;
            case Kind.Store:
                if (Count(run, s, 2))
                {
                    var (offset, rs1) = run.Memory(s, ops[1]);
                    words.Add(d.Match | (uint)((offset & 0x1f) << 7) | (uint)(rs1 << 15) | (uint)(run.Reg(s, ops[0]) << 20) | (uint)((offset >> 5) << 25));
                }
                break;
            case Kind.Branch:
                if (Count(run, s, 3))
                {
                    words.Add(Branch(run, s, (d.Match >> 12) & 7, run.Reg(s, ops[0]), run.Reg(s, ops[1]), ops[2]));
                }
                break;
            case Kind.Upper:
                if (Count(run, s, 2))
                {
                    var rd = run.Reg(s, ops[0]);
                    long imm;
                    if (m == "auipc" && ops[1].Text.StartsWith("%pcrel_hi(", StringComparison.Ordinal) && ops[1].Text.EndsWith(')'))
                    {
                        var target = run.Imm(s, new Operand(ops[1].Text[10..^1], ops[1].Column + 10));
                        run.RecordPcrelHi(target - run.Pc);
                        imm = ((target - run.Pc + 0x800) >> 12) & 0xfffff;
                    }
                    else
                    {
                        imm = run.Imm(s, ops[1]);
                        if (imm < 0 || imm > 0xfffff)
                        {
                            run.Fail(s, ops[1].Column, $"immediate {imm} out of range [0, 1048575] (20 bits)");
                        }
                    }
                    words.Add(EncodeU(d.Match, rd, imm));
                }
                break;
            case Kind.Jal:
                if (ops.Count == 1)
                {
                    words.Add(Jal(run, s, 1, ops[0]));
                }
                else if (Count(run, s, 2))
                {
                    words.Add(Jal(run, s, run.Reg(s, ops[0]), ops[1]));
                }
                break;
            case Kind.Jalr:
                words.Add(Jalr(run, s));
                break;
            case Kind.Csr:
                if (Count(run, s, 3))
                {
                    words.Add(Csr((d.Match >> 12) & 7, run.Reg(s, ops[0]), run.CsrNumber(s, ops[1]), run.Reg(s, ops[2])));
                }
                break;
            case Kind.CsrImmediate:
                if (Count(run, s, 3))
                {
                    words.Add(Csr((d.Match >> 12) & 7, run.Reg(s, ops[0]), run.CsrNumber(s, ops[1]), run.Uimm5(s, ops[2])));
                }
                break;
            case Kind.Fixed:
                if (Count(run, s, 0))
                {
                    words.Add(d.Match);
                }
                break;
            case Kind.SfenceVma:
                if (ops.Count <= 2)
                {
                    var rs1 = ops.Count > 0 ? run.Reg(s, ops[0]) : 0;
                    var rs2 = ops.Count > 1 ? run.Reg(s, ops[1]) : 0;
                    words.Add(d.Match | (uint)(rs1 << 15) | (uint)(rs2 << 20));
                }
                else
                {
                    run.OperandCountError(s, "at most two registers");
                }
                break;
            case Kind.Fence:
                if (ops.Count == 0)
                {
                    words.Add(0x0ff0000f); // fence iorw, iorw
                }
                else if (ops.Count == 2)
                {
                    words.Add(d.Match | (run.FenceSet(s, ops[0]) << 24) | (run.FenceSet(s, ops[1]) << 20));
                }
                else
                {
                    run.OperandCountError(s, "no operands or a predecessor and successor set");
                }
                break;
            case Kind.Lr:
                if (Count(run, s, 2))
                {
                    words.Add(d.Match | (uint)(run.Reg(s, ops[0]) << 7) | (uint)(run.AddressRegister(s, ops[1]) << 15));
                }
                break;
            case Kind.Sc or Kind.Amo:
                if (Count(run, s, 3))
                {
                    words.Add(d.Match | (uint)(run.Reg(s, ops[0]) << 7) | (uint)(run.AddressRegister(s, ops[2]) << 15) | (uint)(run.Reg(s, ops[1]) << 20));
                }
                break;
        }
        return words;
    }

    private static List<uint> Alias(AssemblyRun run, Statement s, int count, Func<IReadOnlyList<Operand>, uint> encode, List<uint> words)
    {
        if (Count(run, s, count))
        {
            words.Add(encode(s.Operands));
        }
        return words;
    }

    private static bool Count(AssemblyRun run, Statement s, int count)
    {
        if (s.Operands.Count == count)
        {
            return true;
        }
        run.OperandCountError(s, count == 0 ? "no operands" : $"{count} operand(s)");
        return false;
    }

    /// <summary>
    /// GNU as's <c>li</c> (binutils tc-riscv.c <c>load_const</c>): a 32-bit signed value is LUI and/or
    /// ADDIW (ADDI when the whole value fits 12 bits); a wider one is built recursively from its upper
    /// bits, shifted with SLLI and completed with ADDI. GNU as 2.40 emits ADDIW for a lower-only part
    /// inside the recursion and ADDI at the top; matching it keeps the bytes identical.
    /// </summary>
    internal static void LoadImmediate(List<uint> words, int rd, long value, bool top = true)
    {
        var lower = ExpressionParser.SignExtend12(value);
        var upper = value - lower;
        if (value != (int)value)
        {
            var shift = 12;
            while (((upper >> shift) & 1) == 0)
            {
                shift++;
            }
            LoadImmediate(words, rd, upper >> shift, top: false);
            words.Add(EncodeI(0x13, 1, rd, rd, shift));
            if (lower != 0)
            {
                words.Add(EncodeI(0x13, 0, rd, rd, lower));
            }
            return;
        }
        var hasUpper = upper != 0;
        if (hasUpper)
        {
            words.Add(EncodeU(0x37, rd, ((uint)upper >> 12) & 0xfffff));
        }
        if (lower != 0 || !hasUpper)
        {
            words.Add(EncodeI(hasUpper || !top ? 0x1bu : 0x13u, 0, rd, hasUpper ? rd : 0, lower));
        }
    }

    private static long PcrelHi(AssemblyRun run, Statement s, Operand operand, long offset)
    {
        if (offset != (int)offset)
        {
            run.Fail(s, operand.Column, $"target is {offset} bytes away, beyond the ±2 GiB that auipc reaches");
        }
        return ((offset + 0x800) >> 12) & 0xfffff;
    }

    private static uint Branch(AssemblyRun run, Statement s, uint funct3, int rs1, int rs2, Operand target)
    {
        var offset = run.Imm(s, target) - run.Pc;
        run.CheckTarget(s, target, offset, 13);
        return EncodeBranch(funct3, rs1, rs2, offset);
    }

    internal static uint EncodeBranch(uint funct3, int rs1, int rs2, long offset)
    {
        var o = (uint)offset;
        return 0x63 | (funct3 << 12) | (uint)(rs1 << 15) | (uint)(rs2 << 20)
            | (((o >> 11) & 1) << 7) | (((o >> 1) & 0xf) << 8) | (((o >> 5) & 0x3f) << 25) | (((o >> 12) & 1) << 31);
    }

    private static uint Jal(AssemblyRun run, Statement s, int rd, Operand target)
    {
        var offset = run.Imm(s, target) - run.Pc;
        run.CheckTarget(s, target, offset, 21);
        return EncodeJal(rd, offset);
    }

    internal static uint EncodeJal(int rd, long offset)
    {
        var o = (uint)offset;
        return 0x6f | (uint)(rd << 7)
            | (((o >> 12) & 0xff) << 12) | (((o >> 11) & 1) << 20) | (((o >> 1) & 0x3ff) << 21) | (((o >> 20) & 1) << 31);
    }

    private static uint Jalr(AssemblyRun run, Statement s)
    {
        var ops = s.Operands;
        switch (ops.Count)
        {
            case 1:
                return EncodeI(0x67, 0, 1, run.Reg(s, ops[0]), 0);
            case 2 when ops[1].Text.EndsWith(')'):
                var (offset, rs1) = run.Memory(s, ops[1]);
                return EncodeI(0x67, 0, run.Reg(s, ops[0]), rs1, offset);
            case 2:
                return EncodeI(0x67, 0, run.Reg(s, ops[0]), run.Reg(s, ops[1]), 0);
            case 3:
                return EncodeI(0x67, 0, run.Reg(s, ops[0]), run.Reg(s, ops[1]), run.Simm12(s, ops[2]));
            default:
                run.OperandCountError(s, "rs1, or rd, rs1, offset, or rd, offset(rs1)");
                return 0;
        }
    }

    private static uint Csr(uint funct3, int rd, int csr, int rs1OrImmediate) =>
        0x73 | (funct3 << 12) | (uint)(rd << 7) | (uint)(rs1OrImmediate << 15) | ((uint)csr << 20);

    internal static uint EncodeR(uint match, int rd, int rs1, int rs2) => match | (uint)(rd << 7) | (uint)(rs1 << 15) | (uint)(rs2 << 20);

    internal static uint EncodeI(uint opcode, uint funct3, int rd, int rs1, long imm) =>
        opcode | (funct3 << 12) | (uint)(rd << 7) | (uint)(rs1 << 15) | ((uint)(imm & 0xfff) << 20);

    internal static uint EncodeU(uint opcode, int rd, long imm20) => opcode | (uint)(rd << 7) | ((uint)(imm20 & 0xfffff) << 12);
}
