using System.Text;

namespace VirtApi.Assembler;

internal sealed partial class AssemblyRun
{
    private void Emit(Statement s, SectionWriter output)
    {
        if (s.Mnemonic.StartsWith('.'))
        {
            EmitDirective(s, output);
            return;
        }
        if (s.Section == Section.Bss)
        {
            Error(s.Line, s.Column, $"instruction '{s.Mnemonic}' in .bss: only space can be reserved there");
            return;
        }
        EmitInstruction(s, output);
    }

    // ---- directives ---------------------------------------------------------------------------------

    private void EmitDirective(Statement s, SectionWriter output)
    {
        switch (s.Mnemonic)
        {
            case ".globl" or ".global" or ".local" or ".weak" or ".type" or ".size" or ".file" or ".ident" or ".attribute":
                // Symbol binding and metadata: every label is already in the symbol table, and the
                // image is linked here, so these change nothing in the output.
                return;
            case ".option":
                Option(s);
                return;
            case ".equ" or ".set":
                DefineEquate(s);
                return;
            case ".byte":
                DataValues(s, output, 1);
                return;
            case ".half" or ".short" or ".2byte":
                DataValues(s, output, 2);
                return;
            case ".word" or ".long" or ".4byte":
                DataValues(s, output, 4);
                return;
            case ".dword" or ".quad" or ".8byte":
                DataValues(s, output, 8);
                return;
            case ".ascii" or ".asciz" or ".string":
                Strings(s, output, zeroTerminated: s.Mnemonic != ".ascii");
                return;
            case ".zero":
                _fragEnds = true;
                Space(s, output, fillAllowed: false);
                return;
            case ".space" or ".skip":
                _fragEnds = true;
                Space(s, output, fillAllowed: true);
                return;
            case ".fill":
                _fragEnds = true;
                Fill(s, output);
                return;
            case ".align" or ".p2align":
                Align(s, output, powerOfTwo: true);
                return;
            case ".balign":
                Align(s, output, powerOfTwo: false);
                return;
            default:
                Error(s.Line, s.Column, $"unknown directive '{s.Mnemonic}'");
                return;
        }
    }

    /// <summary>
    /// <c>.option</c>: rvc/norvc switch the C extension (and GNU as's automatic compression) on and
    /// off, push/pop save and restore it; relax and pic change nothing in a linked image without
    /// relocations, so they are accepted and ignored.
    /// </summary>
    private void Option(Statement s)
    {
        switch (s.Operands.Count == 1 ? s.Operands[0].Text : null)
        {
            case "rvc":
                _rvc = true;
                _rvcSeen = true;
                return;
            case "norvc":
                _rvc = false;
                return;
            case "push":
                _optionStack.Push(_rvc);
                return;
            case "pop":
                if (_optionStack.Count == 0)
                {
                    Error(s.Line, s.Column, ".option pop without a matching .option push");
                    return;
                }
                _rvc = _optionStack.Pop();
                return;
            case "relax" or "norelax" or "pic" or "nopic":
                return;
            default:
                Error(s.Line, s.Column, ".option takes one of rvc, norvc, push, pop, relax, norelax, pic, nopic");
                return;
        }
    }

    private void DefineEquate(Statement s)
    {
        if (s.Operands.Count != 2 || !ExpressionParser.IsSymbolStart(s.Operands[0].Text.FirstOrDefault()))
        {
            Error(s.Line, s.Column, $"{s.Mnemonic} takes a symbol name and an expression");
            return;
        }
        var name = s.Operands[0].Text;
        if (!_finalPass)
        {
            if (_labels.ContainsKey(name))
            {
                Error(s.Line, s.Column, $"'{name}' is already a label");
            }
            // .set may redefine; the latest definition before a use wins only in GNU's one-pass model,
            // so a symbol here has one value: the last definition.
            _equates[name] = (s.Operands[1].Text, s.Line, s.Operands[1].Column, _currentIndex);
        }
        else
        {
            Value(s, s.Operands[1]);
        }
    }

    private void DataValues(Statement s, SectionWriter output, int size)
    {
        if (s.Operands.Count == 0)
        {
            Error(s.Line, s.Column, $"{s.Mnemonic} needs at least one value");
            return;
        }
        foreach (var operand in s.Operands)
        {
            var value = Value(s, operand);
            if (size < 8)
            {
                var min = -(1L << ((8 * size) - 1));
                var max = (1L << (8 * size)) - 1;
                if (value < min || value > max)
                {
                    Error(s.Line, operand.Column, $"value {value} does not fit in {size} byte(s) [{min}, {max}]");
                }
            }
            if (s.Section == Section.Bss && value != 0)
            {
                Error(s.Line, operand.Column, ".bss holds only zeros");
            }
            output.Value(value, size);
        }
    }

    private void Strings(Statement s, SectionWriter output, bool zeroTerminated)
    {
        if (s.Operands.Count == 0)
        {
            Error(s.Line, s.Column, $"{s.Mnemonic} needs a string");
            return;
        }
        foreach (var operand in s.Operands)
        {
            var text = operand.Text;
            if (text.Length < 2 || text[0] != '"' || text[^1] != '"')
            {
                Error(s.Line, operand.Column, $"{s.Mnemonic} needs a string in double quotes, not '{text}'");
                continue;
            }
            var body = text[1..^1];
            var bytes = new List<byte>();
            for (var i = 0; i < body.Length; i++)
            {
                if (body[i] != '\\')
                {
                    bytes.AddRange(Encoding.UTF8.GetBytes(body[i].ToString()));
                    continue;
                }
                if (++i >= body.Length)
                {
                    Error(s.Line, operand.Column, "string ends with a lone backslash");
                    break;
                }
                if (body[i] == 'x')
                {
                    var hex = new string(body.Skip(i + 1).TakeWhile(char.IsAsciiHexDigit).Take(2).ToArray());
                    bytes.Add(Convert.ToByte(hex.Length == 0 ? "0" : hex, 16));
                    i += hex.Length;
                }
                else if (body[i] is >= '0' and <= '7')
                {
                    var octal = new string(body.Skip(i).TakeWhile(c => c is >= '0' and <= '7').Take(3).ToArray());
                    bytes.Add((byte)Convert.ToInt32(octal, 8));
                    i += octal.Length - 1;
                }
                else if (StringEscapes.Escape(body[i]) is { } escaped)
                {
                    bytes.Add((byte)escaped);
                }
                else
                {
                    Error(s.Line, operand.Column, $"unknown escape '\\{body[i]}'");
                }
            }
            if (s.Section == Section.Bss)
            {
                Error(s.Line, s.Column, ".bss holds only zeros");
            }
            foreach (var b in bytes)
            {
                output.Byte(b);
            }
            if (zeroTerminated)
            {
                output.Byte(0);
            }
        }
    }

    private void Space(Statement s, SectionWriter output, bool fillAllowed)
    {
        if (s.Operands.Count is < 1 or > 2 || (!fillAllowed && s.Operands.Count == 2))
        {
            Error(s.Line, s.Column, fillAllowed ? $"{s.Mnemonic} takes a size and an optional fill byte" : ".zero takes a size");
            return;
        }
        var size = Value(s, s.Operands[0]);
        var fill = s.Operands.Count == 2 ? Value(s, s.Operands[1]) : 0;
        if (size < 0 || size > _options.MaxOutputBytes)
        {
            Error(s.Line, s.Operands[0].Column, $"size {size} is out of range [0, {_options.MaxOutputBytes}]");
            return;
        }
        for (var i = 0; i < size; i++)
        {
            output.Byte((byte)fill);
        }
    }

    private void Fill(Statement s, SectionWriter output)
    {
        if (s.Operands.Count is < 1 or > 3)
        {
            Error(s.Line, s.Column, ".fill takes repeat, size and value");
            return;
        }
        var repeat = Value(s, s.Operands[0]);
        var size = s.Operands.Count > 1 ? Value(s, s.Operands[1]) : 1;
        var value = s.Operands.Count > 2 ? Value(s, s.Operands[2]) : 0;
        if (repeat < 0 || size is < 0 or > 8 || repeat * Math.Max(size, 1) > _options.MaxOutputBytes)
        {
            Error(s.Line, s.Column, $".fill {repeat}, {size}: repeat must be 0 or more and size 0 to 8");
            return;
        }
        for (var i = 0; i < repeat; i++)
        {
            output.Value(value, (int)size);
        }
    }

    private void Align(Statement s, SectionWriter output, bool powerOfTwo)
    {
        if (s.Operands.Count is < 1 or > 3)
        {
            Error(s.Line, s.Column, $"{s.Mnemonic} takes an alignment and an optional fill byte");
            return;
        }
        var amount = Value(s, s.Operands[0]);
        long alignment;
        if (powerOfTwo)
        {
            // RISC-V GNU as: .align n aligns to 2^n, like .p2align.
            if (amount is < 0 or > 16)
            {
                Error(s.Line, s.Operands[0].Column, $"alignment 2^{amount} is out of range [2^0, 2^16]");
                return;
            }
            alignment = 1L << (int)amount;
        }
        else
        {
            if (amount < 1 || amount > 65536 || (amount & (amount - 1)) != 0)
            {
                Error(s.Line, s.Operands[0].Column, $".balign {amount}: the alignment must be a power of two from 1 to 65536");
                return;
            }
            alignment = amount;
        }
        var padding = (alignment - (s.Offset % alignment)) % alignment;
        var explicitFill = s.Operands.Count > 1 ? (long?)Value(s, s.Operands[1]) : null;
        if (s.Section == Section.Text)
        {
            // GNU as gives the section the largest alignment asked for, and pads its end to it.
            _textAlignment = Math.Max(_textAlignment, alignment);
            if (explicitFill is null)
            {
                // GNU as (tc-riscv.c riscv_frag_align_code) skips code alignment no larger than the
                // instruction alignment, 2 bytes with rvc and 4 without, even where the offset is off it.
                if (alignment > (_rvc ? 2 : 4))
                {
                    _fragEnds = true;
                    CodePadding(output, padding);
                }
                return;
            }
        }
        _fragEnds = true;
        for (var i = 0L; i < padding; i++)
        {
            output.Byte((byte)(explicitFill ?? 0));
        }
    }

    /// <summary>
    /// Padding in code, as GNU as makes it (tc-riscv.c riscv_handle_align and riscv_make_nops): a zero
    /// byte if the count is odd (no instruction can start at an odd address, so it is never run), a
    /// c.nop if 2 bytes remain before a 4-byte boundary (whether or not rvc is on: such a gap only
    /// arises next to compressed code), then 4-byte nops.
    /// </summary>
    private static void CodePadding(SectionWriter output, long padding)
    {
        var i = 0L;
        if (padding % 2 == 1)
        {
            output.Byte(0);
            i++;
        }
        if ((padding - i) % 4 == 2)
        {
            output.Half(CompressedNop);
            i += 2;
        }
        for (; i < padding; i += 4)
        {
            output.Word(Instructions.Nop);
        }
    }
}
