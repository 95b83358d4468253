namespace VirtApi.Assembler;

internal sealed partial class AssemblyRun
{
    private readonly Dictionary<long, long> _pcrelHiOffsets = [];

    /// <summary>The address of the statement being encoded.</summary>
    public long Pc => _currentAddress;

    public void Fail(Statement s, int column, string message) => Error(s.Line, column, message);

    public void OperandCountError(Statement s, string expected) =>
        Error(s.Line, s.Column, $"'{s.Mnemonic}' takes {expected}, not {s.Operands.Count} operand(s)");

    public int Reg(Statement s, Operand operand)
    {
        if (Registers.Parse(operand.Text) is { } register)
        {
            return register;
        }
        Error(s.Line, operand.Column, $"'{operand.Text}' is not a register (x0-x31 or an ABI name such as a0, sp, t1)");
        return 0;
    }

    public long Imm(Statement s, Operand operand) => Value(s, operand);

    /// <summary>A signed 12-bit immediate, also <c>%lo(...)</c> and <c>%pcrel_lo(label)</c>.</summary>
    public int Simm12(Statement s, Operand operand)
    {
        var value = operand.Text.StartsWith("%pcrel_lo(", StringComparison.Ordinal) && operand.Text.EndsWith(')')
            ? PcrelLo(s, new Operand(operand.Text[10..^1], operand.Column + 10))
            : Value(s, operand);
        if (value is < -2048 or > 2047 && !_operandFailed)
        {
            Error(s.Line, operand.Column, $"immediate {value} out of range [-2048, 2047]");
        }
        return (int)(value & 0xfff);
    }

    public int Uimm5(Statement s, Operand operand)
    {
        var value = Value(s, operand);
        if (value is < 0 or > 31 && !_operandFailed)
        {
            Error(s.Line, operand.Column, $"immediate {value} out of range [0, 31]");
        }
        return (int)(value & 0x1f);
    }

    public int CsrNumber(Statement s, Operand operand)
    {
        if (Registers.Csrs.TryGetValue(operand.Text, out var number))
        {
            return number;
        }
        var value = ExpressionParser.Evaluate(operand.Text, _ => null, out _);
        if (value is >= 0 and <= 0xfff)
        {
            return (int)value;
        }
        Error(s.Line, operand.Column, $"'{operand.Text}' is not a CSR name or a number in [0, 4095]");
        return 0;
    }

    /// <summary><c>offset(reg)</c> or <c>(reg)</c>, the offset a signed 12-bit value.</summary>
    public (int Offset, int Register) Memory(Statement s, Operand operand)
    {
        var (offset, register) = MemoryParts(s, operand);
        return (offset is { } o ? Simm12(s, o) : 0, register ?? 0);
    }

    /// <summary>
    /// Splits <c>offset(reg)</c> or <c>(reg)</c>: the offset operand (null for none) and the register
    /// (null, with the error reported, when it is not one).
    /// </summary>
    private (Operand? Offset, int? Register) MemoryParts(Statement s, Operand operand)
    {
        var text = operand.Text;
        var open = text.LastIndexOf('(');
        if (open < 0 || !text.EndsWith(')'))
        {
            Error(s.Line, operand.Column, $"'{text}' is not a memory operand like 8(sp) or (a0)");
            _operandFailed = true;
            return (null, null);
        }
        var registerOperand = new Operand(text[(open + 1)..^1].Trim(), operand.Column + open + 1);
        var register = Registers.Parse(registerOperand.Text);
        if (register is null)
        {
            Reg(s, registerOperand);
        }
        var offsetText = text[..open].Trim();
        return (offsetText.Length == 0 ? null : new Operand(offsetText, operand.Column), register);
    }

    /// <summary>The <c>(reg)</c> address operand of LR, SC and AMOs (an offset of 0 is allowed, as in GNU as).</summary>
    public int AddressRegister(Statement s, Operand operand)
    {
        var (offset, register) = Memory(s, operand);
        if (offset != 0)
        {
            Error(s.Line, operand.Column, "atomic memory operations take no offset: use (reg)");
        }
        return register;
    }

    public uint FenceSet(Statement s, Operand operand)
    {
        uint bits = 0;
        foreach (var c in operand.Text)
        {
            bits |= c switch
            {
                'i' => 8u,
                'o' => 4u,
                'r' => 2u,
                'w' => 1u,
                _ => Bad(c),
            };
        }
        return bits;

        uint Bad(char c)
        {
            Error(s.Line, operand.Column, $"'{c}' is not a fence set letter (i, o, r, w)");
            return 0;
        }
    }

    /// <summary>Checks a branch or jump offset: even, and within the ±2^(bits-1) range of its encoding.</summary>
    public void CheckTarget(Statement s, Operand target, long offset, int bits)
    {
        var limit = 1L << (bits - 1);
        if (_operandFailed)
        {
            return;
        }
        if (offset % 2 != 0)
        {
            Error(s.Line, target.Column, $"branch target '{target.Text}' is misaligned: offset {offset} is not a multiple of 2");
        }
        else if (offset < -limit || offset >= limit)
        {
            Error(s.Line, target.Column, $"branch target '{target.Text}' is out of range: offset {offset} not in [{-limit}, {limit - 2}]");
        }
    }

    /// <summary>Remembers the pc-relative offset an <c>auipc rd, %pcrel_hi(sym)</c> at this pc built.</summary>
    public void RecordPcrelHi(long offset) => _pcrelHiOffsets[_currentAddress] = offset;

    /// <summary>
    /// <c>%pcrel_lo(label)</c>: the low 12 bits of the offset computed by the <c>%pcrel_hi</c> at
    /// <c>label</c> (RISC-V ELF psABI, "pc-relative symbol addresses"), not of the label itself.
    /// </summary>
    private long PcrelLo(Statement s, Operand label)
    {
        var address = Value(s, label);
        if (_pcrelHiOffsets.TryGetValue(address, out var offset))
        {
            return ExpressionParser.SignExtend12(offset);
        }
        if (_finalPass)
        {
            Error(s.Line, label.Column, $"%pcrel_lo({label.Text}) must name the label of an auipc with %pcrel_hi");
        }
        return 0;
    }
}
