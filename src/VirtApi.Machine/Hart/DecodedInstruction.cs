namespace VirtApi.Machine.Hart;

/// <summary>
/// What a predecoded instruction does: one value per RV64IM instruction the hot loop executes itself.
/// Everything else (SYSTEM, the A extension, FENCE.I, reserved encodings) is <see cref="SlowPath"/>:
/// the hart executes it through its general fetch-and-execute path, which holds the trap and CSR rules.
/// </summary>
internal enum Operation : byte
{
    /// <summary>Not decoded yet, or its bytes were stored to since: decode again before executing.</summary>
    Undecoded = 0,
    SlowPath,
    Lui,
    Auipc,
    Jal,
    Jalr,
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    Lb,
    Lh,
    Lw,
    Ld,
    Lbu,
    Lhu,
    Lwu,
    Sb,
    Sh,
    Sw,
    Sd,
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Slli,
    Srli,
    Srai,
    Addiw,
    Slliw,
    Srliw,
    Sraiw,
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Addw,
    Subw,
    Sllw,
    Srlw,
    Sraw,
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    Mulw,
    Divw,
    Divuw,
    Remw,
    Remuw,
    Fence,

    /// <summary>
    /// The records past the last whole 32-bit slot (offset 0xffe, where an instruction may straddle into
    /// the next page, and 0x1000, the next page): sequential execution stops there without a bounds test.
    /// </summary>
    PageEnd,
}

/// <summary>
/// One instruction decoded once, for the hot loop: 8 bytes, so a 4 KiB page's 2,048 parcel slots take
/// 16 KiB. A compressed instruction (unprivileged spec chapter 16) is stored as the 32-bit instruction it
/// expands to; <see cref="Code"/>'s top bit says the length as fetched (set: 4 bytes, clear: 2).
/// </summary>
internal struct DecodedInstruction
{
    /// <summary>Set in <see cref="Code"/> for a 32-bit instruction.</summary>
    public const byte FourBytes = 0x80;

    /// <summary>The <see cref="Operation"/>, with <see cref="FourBytes"/> for a 32-bit instruction.</summary>
    public byte Code;

    /// <summary>
    /// The destination register; x0 is stored as <see cref="Hart.ZeroSink"/>, a slot past the 32
    /// registers, so writes need no test for x0 (which must stay zero, unprivileged spec 2.1).
    /// </summary>
    public byte Rd;

    public byte Rs1;

    public byte Rs2;

    /// <summary>The sign-extended immediate (for shifts the shift amount; for LUI/AUIPC the value with its low 12 bits clear).</summary>
    public int Imm;

    public readonly Operation Operation => (Operation)(Code & ~FourBytes);

    /// <summary>
    /// Decodes the instruction whose bits as fetched are <paramref name="raw"/> (16 of them when its low
    /// two bits are not 11). Mirrors <see cref="Hart"/>'s Execute: every encoding it would reject is
    /// <see cref="Operation.SlowPath"/>, so the illegal-instruction trap keeps being raised in one place.
    /// </summary>
    public static DecodedInstruction Decode(uint raw)
    {
        uint inst;
        byte length;
        if ((raw & 3) != 3)
        {
            inst = CompressedExpander.Expand(raw & 0xffff);
            length = 0;
            if (inst == 0)
            {
                return new DecodedInstruction { Code = (byte)Operation.SlowPath };
            }
        }
        else
        {
            inst = raw;
            length = FourBytes;
        }
        var op = DecodeOperation(inst, out var imm);
        var rd = (byte)((inst >> 7) & 0x1f);
        return new DecodedInstruction
        {
            Code = (byte)((byte)op | length),
            Rd = rd == 0 ? Hart.ZeroSink : rd,
            Rs1 = (byte)((inst >> 15) & 0x1f),
            Rs2 = (byte)((inst >> 20) & 0x1f),
            Imm = imm,
        };
    }

    private static Operation DecodeOperation(uint inst, out int imm)
    {
        var funct3 = (inst >> 12) & 7;
        var funct7 = inst >> 25;
        var immI = (int)Hart.ImmI(inst);
        imm = 0;
        switch (inst & 0x7f)
        {
            case 0x37:
                imm = (int)(inst & 0xfffff000);
                return Operation.Lui;
            case 0x17:
                imm = (int)(inst & 0xfffff000);
                return Operation.Auipc;
            case 0x6f:
                imm = (int)Hart.ImmJ(inst);
                return Operation.Jal;
            case 0x67:
                imm = immI;
                return funct3 == 0 ? Operation.Jalr : Operation.SlowPath;
            case 0x63:
                imm = (int)Hart.ImmB(inst);
                return funct3 switch
                {
                    0 => Operation.Beq,
                    1 => Operation.Bne,
                    4 => Operation.Blt,
                    5 => Operation.Bge,
                    6 => Operation.Bltu,
                    7 => Operation.Bgeu,
                    _ => Operation.SlowPath,
                };
            case 0x03:
                imm = immI;
                return funct3 switch
                {
                    0 => Operation.Lb,
                    1 => Operation.Lh,
                    2 => Operation.Lw,
                    3 => Operation.Ld,
                    4 => Operation.Lbu,
                    5 => Operation.Lhu,
                    6 => Operation.Lwu,
                    _ => Operation.SlowPath,
                };
            case 0x23:
                imm = (int)Hart.ImmS(inst);
                return funct3 switch
                {
                    0 => Operation.Sb,
                    1 => Operation.Sh,
                    2 => Operation.Sw,
                    3 => Operation.Sd,
                    _ => Operation.SlowPath,
                };
            case 0x13:
                imm = immI;
                switch (funct3)
                {
                    case 0: return Operation.Addi;
                    case 2: return Operation.Slti;
                    case 3: return Operation.Sltiu;
                    case 4: return Operation.Xori;
                    case 6: return Operation.Ori;
                    case 7: return Operation.Andi;
                }
                imm = (int)((inst >> 20) & 0x3f);
                return (funct3, inst >> 26) switch
                {
                    (1, 0x00) => Operation.Slli,
                    (5, 0x00) => Operation.Srli,
                    (5, 0x10) => Operation.Srai,
                    _ => Operation.SlowPath,
                };
            case 0x1b:
                if (funct3 == 0)
                {
                    imm = immI;
                    return Operation.Addiw;
                }
                imm = (int)((inst >> 20) & 0x1f);
                return (funct3, funct7) switch
                {
                    (1, 0x00) => Operation.Slliw,
                    (5, 0x00) => Operation.Srliw,
                    (5, 0x20) => Operation.Sraiw,
                    _ => Operation.SlowPath,
                };
            case 0x33:
                return ((funct7 << 3) | funct3) switch
                {
                    0x000 => Operation.Add,
                    0x100 => Operation.Sub,
                    0x001 => Operation.Sll,
                    0x002 => Operation.Slt,
                    0x003 => Operation.Sltu,
                    0x004 => Operation.Xor,
                    0x005 => Operation.Srl,
                    0x105 => Operation.Sra,
                    0x006 => Operation.Or,
                    0x007 => Operation.And,
                    0x008 => Operation.Mul,
                    0x009 => Operation.Mulh,
                    0x00a => Operation.Mulhsu,
                    0x00b => Operation.Mulhu,
                    0x00c => Operation.Div,
                    0x00d => Operation.Divu,
                    0x00e => Operation.Rem,
                    0x00f => Operation.Remu,
                    _ => Operation.SlowPath,
                };
            case 0x3b:
                return ((funct7 << 3) | funct3) switch
                {
                    0x000 => Operation.Addw,
                    0x100 => Operation.Subw,
                    0x001 => Operation.Sllw,
                    0x005 => Operation.Srlw,
                    0x105 => Operation.Sraw,
                    0x008 => Operation.Mulw,
                    0x00c => Operation.Divw,
                    0x00d => Operation.Divuw,
                    0x00e => Operation.Remw,
                    0x00f => Operation.Remuw,
                    _ => Operation.SlowPath,
                };
            case 0x0f:
                // FENCE orders nothing on this machine (one hart's view is always ordered); FENCE.I
                // must drop decoded instructions, which the general path does.
                return funct3 == 0 ? Operation.Fence : Operation.SlowPath;
            default:
                return Operation.SlowPath;
        }
    }
}
