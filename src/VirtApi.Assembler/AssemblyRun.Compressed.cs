using System.Diagnostics;

namespace VirtApi.Assembler;

/// <summary>
/// The C extension (RISC-V unprivileged spec 20191213, chapter 16 "C" Standard Extension for
/// Compressed Instructions, RVC): the explicit <c>c.</c> mnemonics of RV64C without floating point,
/// and, under <c>.option rvc</c>, the automatic compression GNU as 2.40 applies to ordinary
/// instructions (binutils opcodes/riscv-opc.c: the INSN_CLASS_C alias entries, tried in table order
/// before the 32-bit form), including its relaxation of branches and jumps to labels
/// (gas/config/tc-riscv.c <c>relaxed_branch_length</c>).
/// </summary>
internal sealed partial class AssemblyRun
{
    private const ushort CompressedNop = 0x0001;

    // RVC (spec 16.2): the 3-bit register fields of CIW, CL, CS, CA and CB name x8-x15 only.
    private static bool IsCompressedRegister(int register) => register is >= 8 and <= 15;

    private static readonly HashSet<string> CompressedMnemonics =
    [
        "c.addi4spn", "c.lw", "c.ld", "c.sw", "c.sd", "c.nop", "c.addi", "c.addiw", "c.li", "c.addi16sp", "c.lui",
        "c.srli", "c.srai", "c.andi", "c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw", "c.j", "c.beqz", "c.bnez",
        "c.slli", "c.ldsp", "c.lwsp", "c.jr", "c.mv", "c.ebreak", "c.jalr", "c.add", "c.sdsp", "c.swsp",
    ];

    private void EmitInstruction(Statement s, SectionWriter output)
    {
        if (s.Offset % 2 != 0)
        {
            // GNU as skips code alignment no larger than the instruction alignment (see Align), so
            // .align 1 or 2 cannot repair this; an explicit fill can.
            Error(s.Line, s.Column, "instruction at an odd offset; pad the data before it, for example with .balign 4, 0");
        }
        else if (s.Offset % 4 != 0 && !_rvcSeen)
        {
            // Without C, instructions are 4-byte aligned (IALIGN=32, spec 1.5); with C, 2 bytes is enough.
            Error(s.Line, s.Column, "instruction is not on a 4-byte boundary; add .balign 4, 0 (or .align 3) before it");
        }
        if (CompressedMnemonics.Contains(s.Mnemonic))
        {
            if (!_rvc)
            {
                Error(s.Line, s.Column, $"'{s.Mnemonic}' needs the C extension: put .option rvc before it");
            }
            EmitExplicitCompressed(s, output);
            return;
        }
        if (_rvc && TryEmitRelaxable(s, output))
        {
            return;
        }
        var compressible = _rvc && MayCompress(s);
        foreach (var word in Instructions.Expand(this, s))
        {
            if (compressible && Compress(word) is { } half)
            {
                output.Half(half);
            }
            else
            {
                output.Word(word);
            }
        }
    }

    /// <summary>
    /// Whether GNU as would consider the C forms for this statement: not when an operand carries a
    /// relocation operator (<c>%lo</c>, <c>%pcrel_lo</c> …: the C operand types take constants only),
    /// not for the address-building pseudo-instructions (their parts carry relocations), and for
    /// <c>jalr</c>/<c>jr</c> only the one-register spellings, the only ones with a C entry. Other
    /// pseudo-instructions compress like the instructions they expand to, as GNU as assembles li's
    /// parts as lui/addiw/slli/addi statements and the rest have no C entry their words could match.
    /// </summary>
    private static bool MayCompress(Statement s)
    {
        if (s.Operands.Any(o => HasRelocationOperator(o.Text)))
        {
            return false;
        }
        return s.Mnemonic switch
        {
            "la" or "lla" or "call" or "tail" or "jal" or "auipc" => false,
            "jalr" or "jr" => s.Operands.Count == 1 && Registers.Parse(s.Operands[0].Text) is not null,
            // mv has only the c.mv entry: "mv a0, zero" stays addi, though c.li could encode it.
            "mv" => s.Operands.Count == 2 && Registers.Parse(s.Operands[1].Text) is not (null or 0),
            _ => true,
        };
    }

    /// <summary>A <c>%name(</c> operator such as <c>%lo(</c>; a <c>%</c> between operands is the remainder.</summary>
    private static bool HasRelocationOperator(string text)
    {
        for (var i = text.IndexOf('%', StringComparison.Ordinal); i >= 0; i = text.IndexOf('%', i + 1))
        {
            var end = i + 1;
            while (end < text.Length && (char.IsAsciiLetter(text[end]) || text[end] == '_'))
            {
                end++;
            }
            if (end > i + 1 && end < text.Length && text[end] == '(')
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The 16-bit form GNU as picks for a 32-bit instruction word, or null. The order of the checks is
    /// the order of the INSN_CLASS_C entries in binutils riscv-opc.c, because the first match wins
    /// (for example <c>addi sp, sp, -32</c> is c.addi, not c.addi16sp).
    /// </summary>
    internal static ushort? Compress(uint word)
    {
        var rd = (int)((word >> 7) & 0x1f);
        var rs1 = (int)((word >> 15) & 0x1f);
        var rs2 = (int)((word >> 20) & 0x1f);
        var funct3 = (word >> 12) & 7;
        var funct7 = word >> 25;
        long immI = (int)word >> 20;
        long immS = ((int)word >> 25 << 5) | (int)((word >> 7) & 0x1f);
        var shamt = (int)((word >> 20) & 0x3f);
        static bool Small(long value) => value is >= -32 and <= 31;
        switch (word & 0x7f)
        {
            case 0x13 when funct3 == 0: // addi
                if (IsCompressedRegister(rd) && rs1 == 2 && immI is > 0 and < 1024 && immI % 4 == 0)
                {
                    return AddI4Spn(rd, immI);
                }
                if (rd == rs1 && rd != 0 && immI != 0 && Small(immI))
                {
                    return CI(0, 1, rd, immI);
                }
                if (rd == 0 && rs1 == 0 && immI == 0)
                {
                    return CompressedNop;
                }
                if (rd == 2 && rs1 == 2 && immI != 0 && immI % 16 == 0 && immI is >= -512 and <= 496)
                {
                    return AddI16Sp(immI);
                }
                if (rs1 == 0 && rd != 0 && Small(immI))
                {
                    return CI(2, 1, rd, immI);
                }
                if (rs1 != 0 && rd != 0 && immI == 0)
                {
                    return CR(8, rd, rs1, 2); // c.mv
                }
                return null;
            case 0x13 when funct3 == 7: // andi
                return IsCompressedRegister(rd) && rd == rs1 && Small(immI) ? CB(2, rd, immI) : null;
            case 0x13 when funct3 == 1 && funct7 >> 1 == 0: // slli
                return rd == rs1 && rd != 0 && shamt != 0 ? CI(0, 2, rd, shamt) : null;
            case 0x13 when funct3 == 5 && funct7 >> 1 is 0 or 0x10: // srli, srai
                return IsCompressedRegister(rd) && rd == rs1 && shamt != 0 ? CB(funct7 >> 1 == 0 ? 0u : 1u, rd, shamt) : null;
            case 0x1b when funct3 == 0: // addiw
                return rd == rs1 && rd != 0 && Small(immI) ? CI(1, 1, rd, immI) : null;
            case 0x33 when funct3 == 0 && funct7 == 0: // add
                if (rd != 0 && rd == rs1 && rs2 != 0)
                {
                    return CR(9, rd, rs2, 2);
                }
                if (rd != 0 && rd == rs2 && rs1 != 0)
                {
                    return CR(9, rd, rs1, 2);
                }
                return rd != 0 && rs1 == 0 && rs2 != 0 ? CR(8, rd, rs2, 2) : null;
            case 0x33 when funct7 == 0x20 && funct3 == 0: // sub: not commutative, rd = rs1 only
                return IsCompressedRegister(rd) && rd == rs1 && IsCompressedRegister(rs2) ? CA(0x23, rd, 0, rs2) : null;
            case 0x33 when funct7 == 0 && funct3 is 4 or 6 or 7: // xor, or, and
                return Commutative(0x23, funct3 == 4 ? 1u : funct3 == 6 ? 2u : 3u);
            case 0x3b when funct7 == 0 && funct3 == 0: // addw
                return Commutative(0x27, 1);
            case 0x3b when funct7 == 0x20 && funct3 == 0: // subw
                return IsCompressedRegister(rd) && rd == rs1 && IsCompressedRegister(rs2) ? CA(0x27, rd, 0, rs2) : null;
            case 0x37: // lui: c.lui's 6-bit signed nzimm[17:12], rd not x0 or x2 (x2 is c.addi16sp)
                {
                    var upper = word >> 12;
                    return rd is not (0 or 2) && (upper is >= 1 and <= 31 || upper >= 0xfffe0) ? CI(3, 1, rd, upper) : null;
                }
            case 0x03 when funct3 is 2 or 3: // lw, ld
                {
                    var scale = funct3 == 2 ? 4 : 8;
                    if (rs1 == 2 && rd != 0 && immI >= 0 && immI < scale * 64 && immI % scale == 0)
                    {
                        return funct3 == 2 ? LwSp(rd, immI) : LdSp(rd, immI);
                    }
                    return IsCompressedRegister(rd) && IsCompressedRegister(rs1) && immI >= 0 && immI < scale * 32 && immI % scale == 0
                        ? ClCs(funct3 == 2 ? 2u : 3u, rs1, rd, immI, scale)
                        : null;
                }
            case 0x23 when funct3 is 2 or 3: // sw, sd
                {
                    var scale = funct3 == 2 ? 4 : 8;
                    if (rs1 == 2 && immS >= 0 && immS < scale * 64 && immS % scale == 0)
                    {
                        return funct3 == 2 ? SwSp(rs2, immS) : SdSp(rs2, immS);
                    }
                    return IsCompressedRegister(rs2) && IsCompressedRegister(rs1) && immS >= 0 && immS < scale * 32 && immS % scale == 0
                        ? ClCs(funct3 == 2 ? 6u : 7u, rs1, rs2, immS, scale)
                        : null;
                }
            case 0x67 when funct3 == 0 && immI == 0 && rs1 != 0 && rd is 0 or 1: // jr, jalr (one-register forms)
                return CR(rd == 0 ? 8u : 9u, rs1, 0, 2);
            case 0x73 when word == 0x00100073:
                return 0x9002; // c.ebreak
            default:
                return null;
        }

        ushort? Commutative(uint funct6, uint funct2)
        {
            if (!IsCompressedRegister(rd))
            {
                return null;
            }
            if (rd == rs1 && IsCompressedRegister(rs2))
            {
                return CA(funct6, rd, funct2, rs2);
            }
            return rd == rs2 && IsCompressedRegister(rs1) ? CA(funct6, rd, funct2, rs1) : null;
        }
    }

    // ---- relaxed branches and jumps -------------------------------------------------------------------

    /// <summary>
    /// Under rvc, <c>j</c>, and <c>beqz</c>/<c>bnez</c> (or <c>beq</c>/<c>bne</c> against zero) on
    /// x8-x15, take the 16-bit form when the target is within its reach and the 32-bit form otherwise,
    /// as GNU as's branch relaxation does even with -mno-relax.
    /// </summary>
    private bool TryEmitRelaxable(Statement s, SectionWriter output)
    {
        var ops = s.Operands;
        switch (s.Mnemonic)
        {
            case "j" when ops.Count == 1:
                EmitRelaxed(s, jump: true, 0, 0, ops[0], output);
                return true;
            case "beqz" or "bnez" when ops.Count == 2 && Registers.Parse(ops[0].Text) is { } rs && IsCompressedRegister(rs):
                EmitRelaxed(s, jump: false, s.Mnemonic == "beqz" ? 0u : 1u, rs, ops[1], output);
                return true;
            case "beq" or "bne" when ops.Count == 3 && Registers.Parse(ops[0].Text) is { } rs && IsCompressedRegister(rs) && Registers.Parse(ops[1].Text) == 0:
                EmitRelaxed(s, jump: false, s.Mnemonic == "beq" ? 0u : 1u, rs, ops[2], output);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// One relaxable branch or jump, sized as GNU as's relaxed_branch_length sizes it: 2 bytes when the
    /// offset is within the C form's reach (c.j ±2 KiB, c.beqz/c.bnez ±256 bytes; spec 16.4), else the
    /// 32-bit jal/beq/bne, and for a conditional branch beyond the ±4 KiB of beq/bne, 6 bytes: the
    /// opposite c.bnez/c.beqz over a jal. The layout passes decide the size (a forward target not
    /// placed yet counts as near, then passes repeat until sizes settle); the final pass keeps it.
    /// </summary>
    private void EmitRelaxed(Statement s, bool jump, uint funct3, int rs1, Operand target, SectionWriter output)
    {
        _fragEnds = true;
        var offset = Value(s, target) - Pc;
        int size;
        if (_finalPass)
        {
            size = s.Size;
        }
        else
        {
            var reach = jump ? 2048 : 256;
            size = _standIn || (offset >= -reach && offset < reach) ? 2 : jump || (offset >= -4096 && offset < 4096) ? 4 : 6;
            // Past a number of passes sizes only grow, so the layout settles even if it would oscillate.
            if (_growOnly)
            {
                size = Math.Max(size, s.Size);
            }
        }
        switch (size)
        {
            case 2:
                output.Half(jump ? CompressedJump(offset) : CompressedBranch(funct3, rs1, offset));
                break;
            case 4:
                output.Word(jump ? Instructions.EncodeJal(0, offset) : Instructions.EncodeBranch(funct3, rs1, 0, offset));
                break;
            default:
                // The opposite condition skips the jal (6 bytes on), and the jal reaches ±1 MiB from pc + 2.
                output.Half(CompressedBranch(funct3 ^ 1, rs1, 6));
                output.Word(Instructions.EncodeJal(0, offset - 2));
                break;
        }
        if (_finalPass)
        {
            var (jalOffset, bits) = size switch
            {
                2 => (offset, jump ? 12 : 9),
                4 => (offset, jump ? 21 : 13),
                _ => (offset - 2, 21),
            };
            CheckTarget(s, target, jalOffset, bits);
        }
    }

    private static ushort CompressedJump(long offset)
    {
        var o = (uint)offset;
        return (ushort)(0xa001 | (((o >> 11) & 1) << 12) | (((o >> 4) & 1) << 11) | (((o >> 8) & 3) << 9) | (((o >> 10) & 1) << 8)
            | (((o >> 6) & 1) << 7) | (((o >> 7) & 1) << 6) | (((o >> 1) & 7) << 3) | (((o >> 5) & 1) << 2));
    }

    /// <summary>c.beqz (funct3 bit 0 clear) or c.bnez (set) on rs1' with offset[8|4:3] and offset[7:6|2:1|5].</summary>
    private static ushort CompressedBranch(uint funct3, int rs1, long offset)
    {
        var o = (uint)offset;
        return (ushort)(0xc001 | ((funct3 & 1) << 13) | (((o >> 8) & 1) << 12) | (((o >> 3) & 3) << 10) | ((uint)(rs1 - 8) << 7)
            | (((o >> 6) & 3) << 5) | (((o >> 1) & 3) << 3) | (((o >> 5) & 1) << 2));
    }

    // ---- explicit c. mnemonics ----------------------------------------------------------------------------

    private void EmitExplicitCompressed(Statement s, SectionWriter output)
    {
        var ops = s.Operands;
        var m = s.Mnemonic;
        int expected = m switch
        {
            "c.nop" or "c.ebreak" => 0,
            "c.j" or "c.jr" or "c.jalr" => 1,
            "c.addi4spn" => 3,
            _ => 2,
        };
        if (ops.Count != expected)
        {
            OperandCountError(s, expected == 0 ? "no operands" : $"{expected} operand(s)");
            output.Half(CompressedNop);
            return;
        }
        _operandFailed = false;
        switch (m)
        {
            case "c.j":
                EmitRelaxed(s, jump: true, 0, 0, ops[0], output);
                return;
            case "c.beqz" or "c.bnez":
                EmitRelaxed(s, jump: false, m == "c.beqz" ? 0u : 1u, CReg(s, ops[0]), ops[1], output);
                return;
        }
        output.Half(m switch
        {
            "c.nop" => CompressedNop,
            "c.ebreak" => 0x9002,
            "c.addi4spn" => AddI4Spn(CReg(s, ops[0]), SpAnd(s, ops[1], () => Scaled(s, ops[2], 4, 4, 1020, nonZero: true))),
            "c.lw" => CLoadStore(s, 2, 4, ops),
            "c.ld" => CLoadStore(s, 3, 8, ops),
            "c.sw" => CLoadStore(s, 6, 4, ops),
            "c.sd" => CLoadStore(s, 7, 8, ops),
            // c.addi with rd=x0 or a zero immediate is a HINT (spec 16.7): GNU as accepts it, so do we.
            "c.addi" => CI(0, 1, Reg(s, ops[0]), Signed6(s, ops[1])),
            "c.addiw" => CI(1, 1, NonZeroReg(s, ops[0]), Signed6(s, ops[1])),
            "c.li" => CI(2, 1, Reg(s, ops[0]), Signed6(s, ops[1])),
            "c.addi16sp" => AddI16Sp(SpAnd(s, ops[0], () => Scaled(s, ops[1], 16, -512, 496, nonZero: true))),
            "c.lui" => CLui(s, ops),
            "c.srli" => CB(0, CReg(s, ops[0]), Shift(s, ops[1])),
            "c.srai" => CB(1, CReg(s, ops[0]), Shift(s, ops[1])),
            "c.andi" => CB(2, CReg(s, ops[0]), Signed6(s, ops[1])),
            "c.sub" => CA(0x23, CReg(s, ops[0]), 0, CReg(s, ops[1])),
            "c.xor" => CA(0x23, CReg(s, ops[0]), 1, CReg(s, ops[1])),
            "c.or" => CA(0x23, CReg(s, ops[0]), 2, CReg(s, ops[1])),
            "c.and" => CA(0x23, CReg(s, ops[0]), 3, CReg(s, ops[1])),
            "c.subw" => CA(0x27, CReg(s, ops[0]), 0, CReg(s, ops[1])),
            "c.addw" => CA(0x27, CReg(s, ops[0]), 1, CReg(s, ops[1])),
            "c.slli" => CI(0, 2, Reg(s, ops[0]), Shift(s, ops[1])),
            "c.lwsp" => LwSp(NonZeroReg(s, ops[0]), SpOffset(s, ops[1], 4)),
            "c.ldsp" => LdSp(NonZeroReg(s, ops[0]), SpOffset(s, ops[1], 8)),
            "c.swsp" => SwSp(Reg(s, ops[0]), SpOffset(s, ops[1], 4)),
            "c.sdsp" => SdSp(Reg(s, ops[0]), SpOffset(s, ops[1], 8)),
            "c.jr" => CR(8, NonZeroReg(s, ops[0]), 0, 2),
            "c.jalr" => CR(9, NonZeroReg(s, ops[0]), 0, 2),
            "c.mv" => CR(8, Reg(s, ops[0]), NonZeroReg(s, ops[1]), 2),
            "c.add" => CR(9, Reg(s, ops[0]), NonZeroReg(s, ops[1]), 2),
            _ => throw new UnreachableException($"'{m}' is in CompressedMnemonics but has no encoding"),
        });
    }

    /// <summary>A register of the compressed set x8-x15 (CIW, CL, CS, CA and CB formats).</summary>
    private int CReg(Statement s, Operand operand)
    {
        var register = Registers.Parse(operand.Text);
        if (register is null)
        {
            Reg(s, operand);
            return 8;
        }
        if (!IsCompressedRegister(register.Value))
        {
            Error(s.Line, operand.Column, $"'{operand.Text}' is not allowed here: '{s.Mnemonic}' takes only x8-x15 (s0, s1, a0-a5)");
            return 8;
        }
        return register.Value;
    }

    private int NonZeroReg(Statement s, Operand operand)
    {
        var register = Reg(s, operand);
        if (register == 0 && Registers.Parse(operand.Text) is not null)
        {
            Error(s.Line, operand.Column, $"'{s.Mnemonic}' cannot use x0 here");
        }
        return register;
    }

    private long Signed6(Statement s, Operand operand)
    {
        var value = Value(s, operand);
        if (value is < -32 or > 31 && !_operandFailed)
        {
            Error(s.Line, operand.Column, $"immediate {value} out of range [-32, 31]");
        }
        return value;
    }

    private int Shift(Statement s, Operand operand)
    {
        var value = Value(s, operand);
        // RV64C shifts take shamt 1-63; shamt 0 is reserved for RV128's 64 (spec 16.5).
        if (value is < 1 or > 63 && !_operandFailed)
        {
            Error(s.Line, operand.Column, $"shift amount {value} out of range [1, 63]");
        }
        return (int)(value & 0x3f);
    }

    /// <summary>An immediate that is a multiple of <paramref name="scale"/> in [min, max], zero excluded when nonZero.</summary>
    private long Scaled(Statement s, Operand operand, int scale, long min, long max, bool nonZero)
    {
        var value = Value(s, operand);
        if (_operandFailed)
        {
            return 0;
        }
        var what = nonZero ? $"a non-zero multiple of {scale}" : $"a multiple of {scale}";
        if (value < min || value > max || (nonZero && value == 0))
        {
            Error(s.Line, operand.Column, $"immediate {value} out of range [{min}, {max}] ('{s.Mnemonic}' takes {what})");
        }
        else if (value % scale != 0)
        {
            Error(s.Line, operand.Column, $"immediate {value} is misaligned: '{s.Mnemonic}' takes {what} in [{min}, {max}]");
        }
        return value;
    }

    private long SpAnd(Statement s, Operand register, Func<long> immediate)
    {
        if (Registers.Parse(register.Text) is { } r && r != 2)
        {
            Error(s.Line, register.Column, $"'{s.Mnemonic}' takes sp here, not '{register.Text}'");
        }
        else if (Registers.Parse(register.Text) is null)
        {
            Reg(s, register);
        }
        return immediate();
    }

    /// <summary>An <c>offset(sp)</c> operand of c.lwsp, c.ldsp, c.swsp and c.sdsp.</summary>
    private long SpOffset(Statement s, Operand operand, int scale)
    {
        var (offsetOperand, register) = MemoryParts(s, operand);
        if (register is { } r && r != 2)
        {
            Error(s.Line, operand.Column, $"'{s.Mnemonic}' addresses memory through sp, not x{r}");
        }
        return offsetOperand is { } o ? Scaled(s, o, scale, 0, (scale * 64) - scale, nonZero: false) : 0;
    }

    private ushort CLoadStore(Statement s, uint funct3, int scale, IReadOnlyList<Operand> ops)
    {
        var data = CReg(s, ops[0]);
        var (offsetOperand, register) = MemoryParts(s, ops[1]);
        var baseRegister = 8;
        if (register is { } r)
        {
            if (!IsCompressedRegister(r))
            {
                Error(s.Line, ops[1].Column, $"base register x{r} is not allowed here: '{s.Mnemonic}' takes only x8-x15 (s0, s1, a0-a5)");
            }
            else
            {
                baseRegister = r;
            }
        }
        var offset = offsetOperand is { } o ? Scaled(s, o, scale, 0, (scale * 32) - scale, nonZero: false) : 0;
        return ClCs(funct3, baseRegister, data, offset, scale);
    }

    private ushort CLui(Statement s, IReadOnlyList<Operand> ops)
    {
        var rd = Reg(s, ops[0]);
        if (rd == 2)
        {
            Error(s.Line, ops[0].Column, "'c.lui' cannot write sp: that encoding is c.addi16sp");
        }
        var value = Value(s, ops[1]);
        // nzimm[17:12] is a non-zero 6-bit signed value; GNU as writes it as the 20-bit lui immediate.
        if (!_operandFailed && !(value is >= 1 and <= 31 || value is >= 0xfffe0 and <= 0xfffff))
        {
            Error(s.Line, ops[1].Column, $"immediate {value} out of range [1, 31] or [0xfffe0, 0xfffff] ('c.lui' takes a non-zero 6-bit signed upper immediate)");
        }
        return CI(3, 1, rd, value);
    }

    // ---- 16-bit formats (spec 16.2, table 16.1) ---------------------------------------------------------

    private static ushort CI(uint funct3, uint op, int rd, long imm6) =>
        (ushort)((funct3 << 13) | (((uint)imm6 >> 5 & 1) << 12) | ((uint)rd << 7) | (((uint)imm6 & 0x1f) << 2) | op);

    private static ushort CR(uint funct4, int rd, int rs2, uint op) => (ushort)((funct4 << 12) | ((uint)rd << 7) | ((uint)rs2 << 2) | op);

    private static ushort CA(uint funct6, int rd, uint funct2, int rs2) =>
        (ushort)((funct6 << 10) | ((uint)(rd - 8) << 7) | (funct2 << 5) | ((uint)(rs2 - 8) << 2) | 1);

    /// <summary>c.srli (0), c.srai (1) and c.andi (2): funct3 100, bits 11:10 select the operation.</summary>
    private static ushort CB(uint funct2, int rd, long imm6) =>
        (ushort)((4u << 13) | (((uint)imm6 >> 5 & 1) << 12) | (funct2 << 10) | ((uint)(rd - 8) << 7) | (((uint)imm6 & 0x1f) << 2) | 1);

    private static ushort AddI4Spn(int rd, long imm)
    {
        var i = (uint)imm;
        return (ushort)((((i >> 4) & 3) << 11) | (((i >> 6) & 0xf) << 7) | (((i >> 2) & 1) << 6) | (((i >> 3) & 1) << 5) | ((uint)(rd - 8) << 2));
    }

    private static ushort AddI16Sp(long imm)
    {
        var i = (uint)imm;
        return (ushort)((3u << 13) | (((i >> 9) & 1) << 12) | (2u << 7) | (((i >> 4) & 1) << 6) | (((i >> 6) & 1) << 5) | (((i >> 7) & 3) << 3) | (((i >> 5) & 1) << 2) | 1);
    }

    /// <summary>c.lw/c.sw (scale 4: uimm[5:3] at 12:10, uimm[2|6] at 6:5) and c.ld/c.sd (uimm[7:6] at 6:5).</summary>
    private static ushort ClCs(uint funct3, int rs1, int rdOrRs2, long imm, int scale)
    {
        var i = (uint)imm;
        var low = scale == 4 ? (((i >> 2) & 1) << 6) | (((i >> 6) & 1) << 5) : ((i >> 6) & 3) << 5;
        return (ushort)((funct3 << 13) | (((i >> 3) & 7) << 10) | ((uint)(rs1 - 8) << 7) | low | ((uint)(rdOrRs2 - 8) << 2));
    }

    private static ushort LwSp(int rd, long imm)
    {
        var i = (uint)imm;
        return (ushort)((2u << 13) | (((i >> 5) & 1) << 12) | ((uint)rd << 7) | (((i >> 2) & 7) << 4) | (((i >> 6) & 3) << 2) | 2);
    }

    private static ushort LdSp(int rd, long imm)
    {
        var i = (uint)imm;
        return (ushort)((3u << 13) | (((i >> 5) & 1) << 12) | ((uint)rd << 7) | (((i >> 3) & 3) << 5) | (((i >> 6) & 7) << 2) | 2);
    }

    private static ushort SwSp(int rs2, long imm)
    {
        var i = (uint)imm;
        return (ushort)((6u << 13) | (((i >> 2) & 0xf) << 9) | (((i >> 6) & 3) << 7) | ((uint)rs2 << 2) | 2);
    }

    private static ushort SdSp(int rs2, long imm)
    {
        var i = (uint)imm;
        return (ushort)((7u << 13) | (((i >> 3) & 7) << 10) | (((i >> 6) & 7) << 7) | ((uint)rs2 << 2) | 2);
    }
}
