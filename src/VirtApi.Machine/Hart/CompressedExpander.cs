namespace VirtApi.Machine.Hart;

/// <summary>
/// The C extension (unprivileged spec 20191213, chapter 16, RV64C): each 16-bit instruction expands to
/// the 32-bit instruction it stands for, which the hart then executes with a length of 2. Reserved
/// and floating-point encodings expand to 0, which the hart treats as an illegal instruction.
/// </summary>
public static class CompressedExpander
{
    public static uint Expand(uint c)
    {
        var op = c & 3;
        var funct3 = (c >> 13) & 7;
        var rdRs1 = (c >> 7) & 0x1f;
        var rs2 = (c >> 2) & 0x1f;
        var rdPrime = 8 + ((c >> 2) & 7);
        var rs1Prime = 8 + ((c >> 7) & 7);
        switch (op)
        {
            case 0:
                switch (funct3)
                {
                    case 0: // C.ADDI4SPN
                        {
                            var imm = (((c >> 11) & 3) << 4) | (((c >> 7) & 0xf) << 6) | (((c >> 6) & 1) << 2) | (((c >> 5) & 1) << 3);
                            return imm == 0 ? 0 : I(0x13, 0, rdPrime, 2, (int)imm);
                        }
                    case 2: // C.LW
                        return I(0x03, 2, rdPrime, rs1Prime, (int)((((c >> 10) & 7) << 3) | (((c >> 6) & 1) << 2) | (((c >> 5) & 1) << 6)));
                    case 3: // C.LD
                        return I(0x03, 3, rdPrime, rs1Prime, (int)((((c >> 10) & 7) << 3) | (((c >> 5) & 3) << 6)));
                    case 6: // C.SW
                        return S(2, rs1Prime, rdPrime, (int)((((c >> 10) & 7) << 3) | (((c >> 6) & 1) << 2) | (((c >> 5) & 1) << 6)));
                    case 7: // C.SD
                        return S(3, rs1Prime, rdPrime, (int)((((c >> 10) & 7) << 3) | (((c >> 5) & 3) << 6)));
                    default:
                        return 0;
                }
            case 1:
                {
                    var imm6 = SignExtend((((c >> 12) & 1) << 5) | ((c >> 2) & 0x1f), 6);
                    switch (funct3)
                    {
                        case 0: // C.ADDI (C.NOP when rd = 0)
                            return I(0x13, 0, rdRs1, rdRs1, imm6);
                        case 1: // C.ADDIW
                            return rdRs1 == 0 ? 0 : I(0x1b, 0, rdRs1, rdRs1, imm6);
                        case 2: // C.LI
                            return I(0x13, 0, rdRs1, 0, imm6);
                        case 3:
                            if (rdRs1 == 2) // C.ADDI16SP
                            {
                                var imm = SignExtend((((c >> 12) & 1) << 9) | (((c >> 6) & 1) << 4) | (((c >> 5) & 1) << 6) | (((c >> 3) & 3) << 7) | (((c >> 2) & 1) << 5), 10);
                                return imm == 0 ? 0 : I(0x13, 0, 2, 2, imm);
                            }
                            // C.LUI
                            return imm6 == 0 || rdRs1 == 0 ? 0 : 0x37u | (rdRs1 << 7) | (((uint)imm6 & 0xfffff) << 12);
                        case 4:
                            {
                                var shamt = (int)((((c >> 12) & 1) << 5) | ((c >> 2) & 0x1f));
                                switch ((c >> 10) & 3)
                                {
                                    case 0: return I(0x13, 5, rs1Prime, rs1Prime, shamt); // C.SRLI
                                    case 1: return I(0x13, 5, rs1Prime, rs1Prime, shamt | 0x400); // C.SRAI
                                    case 2: return I(0x13, 7, rs1Prime, rs1Prime, imm6); // C.ANDI
                                }
                                var rs2Prime = 8 + ((c >> 2) & 7);
                                return (((c >> 12) & 1), (c >> 5) & 3) switch
                                {
                                    (0, 0) => R(0x20, 0, 0x33, rs1Prime, rs1Prime, rs2Prime), // C.SUB
                                    (0, 1) => R(0x00, 4, 0x33, rs1Prime, rs1Prime, rs2Prime), // C.XOR
                                    (0, 2) => R(0x00, 6, 0x33, rs1Prime, rs1Prime, rs2Prime), // C.OR
                                    (0, 3) => R(0x00, 7, 0x33, rs1Prime, rs1Prime, rs2Prime), // C.AND
                                    (1, 0) => R(0x20, 0, 0x3b, rs1Prime, rs1Prime, rs2Prime), // C.SUBW
                                    (1, 1) => R(0x00, 0, 0x3b, rs1Prime, rs1Prime, rs2Prime), // C.ADDW
                                    _ => 0,
                                };
                            }
                        case 5: // C.J
                            {
                                var offset = SignExtend((((c >> 12) & 1) << 11) | (((c >> 11) & 1) << 4) | (((c >> 9) & 3) << 8) | (((c >> 8) & 1) << 10)
                                    | (((c >> 7) & 1) << 6) | (((c >> 6) & 1) << 7) | (((c >> 3) & 7) << 1) | (((c >> 2) & 1) << 5), 12);
                                return J(0, offset);
                            }
                        default: // 6: C.BEQZ, 7: C.BNEZ
                            {
                                var offset = SignExtend((((c >> 12) & 1) << 8) | (((c >> 10) & 3) << 3) | (((c >> 5) & 3) << 6) | (((c >> 3) & 3) << 1) | (((c >> 2) & 1) << 5), 9);
                                return B(funct3 == 6 ? 0u : 1u, rs1Prime, 0, offset);
                            }
                    }
                }
            case 2:
                switch (funct3)
                {
                    case 0: // C.SLLI
                        return rdRs1 == 0 ? 0 : I(0x13, 1, rdRs1, rdRs1, (int)((((c >> 12) & 1) << 5) | ((c >> 2) & 0x1f)));
                    case 2: // C.LWSP
                        return rdRs1 == 0 ? 0 : I(0x03, 2, rdRs1, 2, (int)((((c >> 12) & 1) << 5) | (((c >> 4) & 7) << 2) | (((c >> 2) & 3) << 6)));
                    case 3: // C.LDSP
                        return rdRs1 == 0 ? 0 : I(0x03, 3, rdRs1, 2, (int)((((c >> 12) & 1) << 5) | (((c >> 5) & 3) << 3) | (((c >> 2) & 7) << 6)));
                    case 4:
                        if (((c >> 12) & 1) == 0)
                        {
                            if (rs2 == 0)
                            {
                                return rdRs1 == 0 ? 0 : I(0x67, 0, 0, rdRs1, 0); // C.JR
                            }
                            return R(0, 0, 0x33, rdRs1, 0, rs2); // C.MV
                        }
                        if (rs2 == 0)
                        {
                            return rdRs1 == 0 ? 0x00100073u : I(0x67, 0, 1, rdRs1, 0); // C.EBREAK, C.JALR
                        }
                        return R(0, 0, 0x33, rdRs1, rdRs1, rs2); // C.ADD
                    case 6: // C.SWSP
                        return S(2, 2, rs2, (int)((((c >> 9) & 0xf) << 2) | (((c >> 7) & 3) << 6)));
                    case 7: // C.SDSP
                        return S(3, 2, rs2, (int)((((c >> 10) & 7) << 3) | (((c >> 7) & 7) << 6)));
                    default:
                        return 0;
                }
            default:
                return 0;
        }
    }

    private static int SignExtend(uint value, int bits) => (int)(value << (32 - bits)) >> (32 - bits);

    private static uint I(uint opcode, uint funct3, uint rd, uint rs1, int imm) =>
        opcode | (rd << 7) | (funct3 << 12) | (rs1 << 15) | (((uint)imm & 0xfff) << 20);

    private static uint S(uint funct3, uint rs1, uint rs2, int imm) =>
        0x23 | (((uint)imm & 0x1f) << 7) | (funct3 << 12) | (rs1 << 15) | (rs2 << 20) | ((((uint)imm >> 5) & 0x7f) << 25);

    private static uint R(uint funct7, uint funct3, uint opcode, uint rd, uint rs1, uint rs2) =>
        opcode | (rd << 7) | (funct3 << 12) | (rs1 << 15) | (rs2 << 20) | (funct7 << 25);

    private static uint B(uint funct3, uint rs1, uint rs2, int offset)
    {
        var o = (uint)offset;
        return 0x63 | (funct3 << 12) | (rs1 << 15) | (rs2 << 20)
            | (((o >> 11) & 1) << 7) | (((o >> 1) & 0xf) << 8) | (((o >> 5) & 0x3f) << 25) | (((o >> 12) & 1) << 31);
    }

    private static uint J(uint rd, int offset)
    {
        var o = (uint)offset;
        return 0x6f | (rd << 7) | (((o >> 12) & 0xff) << 12) | (((o >> 11) & 1) << 20) | (((o >> 1) & 0x3ff) << 21) | (((o >> 20) & 1) << 31);
    }
}
