using System.Text;

namespace VirtApi.Assembler;

/// <summary>
/// A RISC-V RV64 assembler for the GNU as syntax (see <c>docs/assembler.md</c> for what it accepts):
/// two passes over the source, the first to lay out sections and place labels, the second to encode
/// with every symbol known; then an ELF64 executable linked at <see cref="AssemblerOptions.BaseAddress"/>.
/// Every problem becomes an <see cref="AssemblerError"/>; none escapes as an exception.
/// </summary>
public static class RiscVAssembler
{
    public static AssemblyResult Assemble(string source, AssemblerOptions? options = null)
    {
        options ??= new AssemblerOptions();
        ArgumentNullException.ThrowIfNull(source);
        if (Encoding.UTF8.GetByteCount(source) > options.MaxSourceBytes)
        {
            return AssemblyResult.Failed([new AssemblerError(1, 1, $"the source is larger than {options.MaxSourceBytes} bytes")]);
        }
        try
        {
            return new AssemblyRun(source, options).Run();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A bug in the assembler must still come back as an error, never as an exception.
            return AssemblyResult.Failed([new AssemblerError(1, 1, $"internal assembler error: {exception.Message}")]);
        }
    }
}

/// <summary>The sections the assembler lays out, in link order.</summary>
internal enum Section
{
    Text,
    Rodata,
    Data,
    Bss,
}

/// <summary>One source statement: labels, then a directive or an instruction with its operands.</summary>
internal sealed record Statement(int Line, int Column, string Mnemonic, IReadOnlyList<Operand> Operands, Section Section)
{
    public long Offset { get; set; }

    public int Size { get; set; }
}

/// <summary>An operand's text and the column it starts at.</summary>
internal readonly record struct Operand(string Text, int Column);

internal sealed partial class AssemblyRun
{
    private readonly string _source;
    private readonly AssemblerOptions _options;
    private readonly List<Statement> _statements = [];
    private readonly List<AssemblerError> _errors = [];
    private readonly Dictionary<string, (Section Section, long Offset, int Line)> _labels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(int Index, Section Section, long Offset)>> _localLabels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Expression, int Line, int Column, int Index)> _equates = new(StringComparer.Ordinal);

    // Labels waiting for the offset of the statement that follows them, by that statement's index.
    private readonly Dictionary<int, List<string>> _labelsBefore = [];
    private readonly long[] _sectionBase = new long[4];
    private readonly long[] _sectionSize = new long[4];
    private bool _finalPass;

    // The C extension state of the pass in progress (.option rvc/norvc/push/pop), and whether rvc has
    // been on before the current statement (after the final pass: ever, the ELF header's EF_RISCV_RVC).
    private bool _rvc;
    private bool _rvcSeen;
    private readonly Stack<bool> _optionStack = new();

    // Set when a symbol not yet placed was read as a stand-in during layout; and, after many layout
    // passes, the switch that lets relaxed sizes only grow so the layout settles.
    private bool _standIn;
    private bool _growOnly;

    // Set when the statement just laid out ends a GNU frag: a relaxable branch or jump, .fill, .space,
    // .zero, or an alignment that pads.
    private bool _fragEnds;
    private const int GrowOnlyAfterPasses = 8;
    private const int MaxLayoutPasses = 64;

    // The text section's alignment: 4, or the largest .align in it (GNU as pads the section's end to it).
    private long _textAlignment = 4;
    private int _currentIndex;
    private long _currentAddress;

    public AssemblyRun(string source, AssemblerOptions options)
    {
        _source = source;
        _options = options;
    }

    public AssemblyResult Run()
    {
        Parse();
        Layout();
        if (_errors.Count > 0)
        {
            return AssemblyResult.Failed(Sorted());
        }
        var sections = Encode();
        if (_errors.Count > 0)
        {
            return AssemblyResult.Failed(Sorted());
        }
        var symbols = Symbols();
        var entry = symbols.TryGetValue("_start", out var start) ? start : (ulong)_sectionBase[(int)Section.Text];
        // EF_RISCV_RVC (RISC-V ELF psABI, "File Header"): GNU as sets it once .option rvc is seen.
        var elf = ElfWriter.Write(sections, _sectionBase, _sectionSize, symbols, entry, _rvcSeen ? 1u : 0u);
        if (elf.Length > _options.MaxOutputBytes)
        {
            return AssemblyResult.Failed([new AssemblerError(1, 1, $"the output would be {elf.Length} bytes, more than the limit of {_options.MaxOutputBytes}")]);
        }
        return new AssemblyResult(elf, [], symbols, entry);
    }

    private List<AssemblerError> Sorted() =>
        _errors.Distinct().OrderBy(e => e.Line).ThenBy(e => e.Column).ToList();

    // Set when an operand of the current statement could not be evaluated, so range checks on the
    // stand-in value do not add a second, misleading error for the same mistake.
    private bool _operandFailed;

    private void Error(int line, int column, string message) => _errors.Add(new AssemblerError(line, column, message));

    // ---- parsing ------------------------------------------------------------------------------------

    private void Parse()
    {
        var section = Section.Text;
        var lines = _source.Split('\n');
        for (var lineIndex = 0; lineIndex < lines.Length; lineIndex++)
        {
            var lineNumber = lineIndex + 1;
            foreach (var (text, startColumn) in SplitStatements(StripComment(lines[lineIndex].TrimEnd('\r'))))
            {
                var pos = 0;
                // Labels: "name:" or "1:" at the start, possibly several.
                while (true)
                {
                    while (pos < text.Length && char.IsWhiteSpace(text[pos]))
                    {
                        pos++;
                    }
                    var end = pos;
                    while (end < text.Length && ExpressionParser.IsSymbolChar(text[end]))
                    {
                        end++;
                    }
                    if (end > pos && end < text.Length && text[end] == ':')
                    {
                        DefineLabel(text[pos..end], lineNumber, startColumn + pos, section);
                        pos = end + 1;
                        continue;
                    }
                    break;
                }
                if (pos >= text.Length)
                {
                    continue;
                }
                var mnemonicEnd = pos;
                while (mnemonicEnd < text.Length && !char.IsWhiteSpace(text[mnemonicEnd]))
                {
                    mnemonicEnd++;
                }
                var mnemonic = text[pos..mnemonicEnd].ToLowerInvariant();
                var operands = SplitOperands(text, mnemonicEnd, startColumn);
                var column = startColumn + pos;
                if (TrySwitchSection(mnemonic, operands, ref section, lineNumber, column))
                {
                    continue;
                }
                _statements.Add(new Statement(lineNumber, column, mnemonic, operands, section));
            }
        }
    }

    private void DefineLabel(string name, int line, int column, Section section)
    {
        // The offset (-1 until then) is set when the layout pass reaches the next statement (see Layout).
        if (!_labelsBefore.TryGetValue(_statements.Count, out var pending))
        {
            _labelsBefore[_statements.Count] = pending = [];
        }
        if (name.All(char.IsAsciiDigit))
        {
            if (!_localLabels.TryGetValue(name, out var list))
            {
                _localLabels[name] = list = [];
            }
            list.Add((_statements.Count, section, -1));
            pending.Add(name);
            return;
        }
        if (_labels.ContainsKey(name) || _equates.ContainsKey(name))
        {
            Error(line, column, $"label '{name}' is already defined (line {(_labels.TryGetValue(name, out var first) ? first.Line : _equates[name].Line)})");
            return;
        }
        _labels[name] = (section, -1, line);
        pending.Add(name);
    }

    private bool TrySwitchSection(string mnemonic, List<Operand> operands, ref Section section, int line, int column)
    {
        Section? target = mnemonic switch
        {
            ".text" => Section.Text,
            ".data" => Section.Data,
            ".rodata" => Section.Rodata,
            ".bss" => Section.Bss,
            ".section" => operands.Count == 0 ? null : SectionByName(operands[0].Text),
            _ => null,
        };
        if (mnemonic == ".section" && target is null)
        {
            Error(line, column, operands.Count == 0 ? ".section needs a section name" : $"unknown section '{operands[0].Text}': use .text, .rodata, .data or .bss (or names starting with them)");
            return true;
        }
        if (target is null)
        {
            return false;
        }
        section = target.Value;
        return true;
    }

    private static Section? SectionByName(string name) => name.Trim().Trim('"') switch
    {
        var n when n == ".text" || n.StartsWith(".text.", StringComparison.Ordinal) || n == ".init" => Section.Text,
        var n when n.StartsWith(".rodata", StringComparison.Ordinal) || n.StartsWith(".srodata", StringComparison.Ordinal) => Section.Rodata,
        var n when n.StartsWith(".data", StringComparison.Ordinal) || n.StartsWith(".sdata", StringComparison.Ordinal) || n.StartsWith(".tohost", StringComparison.Ordinal) => Section.Data,
        var n when n.StartsWith(".bss", StringComparison.Ordinal) || n.StartsWith(".sbss", StringComparison.Ordinal) => Section.Bss,
        _ => null,
    };

    private static string StripComment(string line)
    {
        var inString = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '"' && (i == 0 || line[i - 1] != '\\'))
            {
                inString = !inString;
            }
            else if (!inString && c == '\'' && i + 1 < line.Length)
            {
                i += line[i + 1] == '\\' ? 2 : 1;
                if (i + 1 < line.Length && line[i + 1] == '\'')
                {
                    i++;
                }
            }
            else if (!inString && (c == '#' || (c == '/' && i + 1 < line.Length && line[i + 1] == '/')))
            {
                return line[..i];
            }
        }
        return line;
    }

    /// <summary>GNU as for RISC-V separates statements on one line with ';'.</summary>
    private static IEnumerable<(string Text, int Column)> SplitStatements(string line)
    {
        var start = 0;
        var inString = false;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '"' && (i == 0 || line[i - 1] != '\\'))
            {
                inString = !inString;
            }
            else if (!inString && line[i] == ';')
            {
                yield return (line[start..i], start + 1);
                start = i + 1;
            }
        }
        yield return (line[start..], start + 1);
    }

    private static List<Operand> SplitOperands(string text, int from, int startColumn)
    {
        var operands = new List<Operand>();
        var depth = 0;
        var inString = false;
        var start = from;
        for (var i = from; i <= text.Length; i++)
        {
            var c = i < text.Length ? text[i] : ',';
            if (i < text.Length && c == '"' && text[i - 1] != '\\')
            {
                inString = !inString;
            }
            if (inString)
            {
                continue;
            }
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if ((c == ',' && depth == 0) || i == text.Length)
            {
                var raw = text[start..i];
                var trimmed = raw.Trim();
                if (trimmed.Length > 0 || i < text.Length)
                {
                    operands.Add(new Operand(trimmed, startColumn + start + (raw.Length - raw.TrimStart().Length)));
                }
                start = i + 1;
            }
        }
        return operands;
    }

    // ---- layout (first pass) ------------------------------------------------------------------------

    /// <summary>
    /// Lays out every section. Sizes can depend on where labels land (relaxed branches and jumps under
    /// rvc, and values of symbols defined later), so passes repeat until no size changes, modelled on
    /// GNU as's relax_segment so the same layout comes out: a first pass sizes everything with
    /// forward references unknown; if some size depends on one, an estimate pass reads each forward
    /// label as its offset within its GNU frag (a frag ends at every relaxable branch, .fill, .space
    /// and .align, and frags not yet reached have address 0), as md_estimate_size_before_relax sees
    /// it; then relaxation passes read forward labels where the previous pass put them.
    /// </summary>
    private void Layout()
    {
        // Text starts at the base address whatever the other sections hold, so branch offsets to
        // absolute addresses are right during layout too; later sections get their bases at the end.
        _sectionBase[(int)Section.Text] = (long)_options.BaseAddress;
        var fragOffsets = new Dictionary<int, long[]>();
        if (LayoutPass(fragOffsets))
        {
            foreach (var (index, offsets) in fragOffsets)
            {
                PlaceLabelsBefore(index, offsets);
            }
            LayoutPass(null);
            for (var pass = 0; pass < MaxLayoutPasses; pass++)
            {
                _growOnly = pass >= GrowOnlyAfterPasses;
                if (!LayoutPass(null))
                {
                    break;
                }
            }
        }

        // Link order text, rodata, data, bss; each section starts on a 4 KiB page so each gets its own permissions.
        var address = (long)_options.BaseAddress;
        for (var s = 0; s < 4; s++)
        {
            _sectionBase[s] = address;
            address = AlignUp(address + _sectionSize[s], 0x1000);
        }
    }

    /// <summary>
    /// One layout pass; true when another is needed because a size may still change. The first pass
    /// (with <paramref name="fragOffsets"/>) also records, where labels are placed, their offsets from
    /// the start of the GNU frag they fall in.
    /// </summary>
    private bool LayoutPass(Dictionary<int, long[]>? fragOffsets)
    {
        var offsets = new long[4];
        var fragStart = new long[4];
        var again = false;
        ResetPassState();
        for (var i = 0; i <= _statements.Count; i++)
        {
            if (fragOffsets is not null && _labelsBefore.ContainsKey(i))
            {
                fragOffsets[i] = [offsets[0] - fragStart[0], offsets[1] - fragStart[1], offsets[2] - fragStart[2], offsets[3] - fragStart[3]];
            }
            PlaceLabelsBefore(i, offsets);
            if (i == _statements.Count)
            {
                break;
            }
            var statement = _statements[i];
            var section = (int)statement.Section;
            statement.Offset = offsets[section];
            _currentIndex = i;
            _currentAddress = _sectionBase[section] + offsets[section];
            _standIn = false;
            _fragEnds = false;
            var output = new SectionWriter(statement.Section);
            var errorsBefore = _errors.Count;
            var rvcBefore = _rvc;
            Emit(statement, output);
            // Errors here may come from stand-in values for forward references: the final pass judges.
            _errors.RemoveRange(errorsBefore, _errors.Count - errorsBefore);
            if (fragOffsets is not null)
            {
                // A stand-in only matters where it can change a size: directives, li, and anything under rvc.
                again |= _standIn && (rvcBefore || statement.Mnemonic.StartsWith('.') || statement.Mnemonic == "li");
            }
            else
            {
                again |= output.Length != statement.Size;
            }
            statement.Size = output.Length;
            offsets[section] += output.Length;
            if (_fragEnds)
            {
                fragStart[section] = offsets[section];
            }
        }
        offsets[(int)Section.Text] = AlignUp(offsets[(int)Section.Text], _textAlignment);
        Array.Copy(offsets, _sectionSize, 4);
        return again;
    }

    private void ResetPassState()
    {
        _rvc = false;
        _rvcSeen = false;
        _optionStack.Clear();
    }

    private void PlaceLabelsBefore(int index, long[] offsets)
    {
        if (!_labelsBefore.TryGetValue(index, out var names))
        {
            return;
        }
        foreach (var name in names)
        {
            if (_localLabels.TryGetValue(name, out var list))
            {
                for (var k = FirstDefinitionFrom(list, index); k < list.Count && list[k].Index == index; k++)
                {
                    list[k] = (index, list[k].Section, offsets[(int)list[k].Section]);
                }
            }
            else if (_labels.TryGetValue(name, out var label))
            {
                _labels[name] = (label.Section, offsets[(int)label.Section], label.Line);
            }
        }
    }

    /// <summary>
    /// Where the definitions of a local label (in statement order) reach statement <paramref name="index"/>:
    /// the position of the first at or after it, found by bisection, as a name like "1" can be
    /// defined thousands of times.
    /// </summary>
    private static int FirstDefinitionFrom(List<(int Index, Section Section, long Offset)> definitions, int index)
    {
        var (low, high) = (0, definitions.Count);
        while (low < high)
        {
            var middle = (low + high) / 2;
            (low, high) = definitions[middle].Index < index ? (middle + 1, high) : (low, middle);
        }
        return low;
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);

    // ---- encoding (second pass) ---------------------------------------------------------------------

    private byte[][] Encode()
    {
        _finalPass = true;
        ResetPassState();
        var writers = Enumerable.Range(0, 4).Select(s => new SectionWriter((Section)s)).ToArray();
        for (var i = 0; i < _statements.Count; i++)
        {
            var statement = _statements[i];
            _currentIndex = i;
            _currentAddress = _sectionBase[(int)statement.Section] + statement.Offset;
            _operandFailed = false;
            var writer = writers[(int)statement.Section];
            var before = writer.Length;
            Emit(statement, writer);
            if (writer.Length - before != statement.Size && _errors.Count == 0)
            {
                Error(statement.Line, statement.Column, $"'{statement.Mnemonic}' changed size between passes: a symbol it uses must be defined before this line");
            }
        }
        var text = writers[(int)Section.Text];
        CodePadding(text, _sectionSize[(int)Section.Text] - text.Length);
        return writers.Select(w => w.ToArray()).ToArray();
    }

    private Dictionary<string, ulong> Symbols()
    {
        var symbols = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var (name, label) in _labels)
        {
            symbols[name] = (ulong)(_sectionBase[(int)label.Section] + label.Offset);
        }
        foreach (var name in _equates.Keys)
        {
            if (ResolveSymbol(name, out var value, out _))
            {
                symbols[name] = (ulong)value;
            }
        }
        return symbols;
    }

    /// <summary>Resolves a symbol: a label, a local reference like 1b/1f, an equate or <c>.</c>.</summary>
    private bool ResolveSymbol(string name, out long value, out bool known)
    {
        known = true;
        if (name == ".")
        {
            value = _currentAddress;
            return true;
        }
        if (_labels.TryGetValue(name, out var label) && label.Offset >= 0)
        {
            value = _sectionBase[(int)label.Section] + label.Offset;
            return true;
        }
        if (name.Length >= 2 && name[^1] is 'b' or 'f' && _localLabels.TryGetValue(name[..^1], out var defs))
        {
            // 1b: the last definition at or before this statement (always placed by now); 1f: the
            // first after it, placed once a pass has reached it.
            var k = FirstDefinitionFrom(defs, _currentIndex + 1) - (name[^1] == 'b' ? 1 : 0);
            if (k >= 0 && k < defs.Count && defs[k].Offset >= 0)
            {
                value = _sectionBase[(int)defs[k].Section] + defs[k].Offset;
                return true;
            }
        }
        if (_equates.TryGetValue(name, out var equate) && equate.Index <= _currentIndex)
        {
            var saved = _currentIndex;
            _currentIndex = equate.Index;
            var result = ExpressionParser.Evaluate(equate.Expression, Lookup, out _);
            _currentIndex = saved;
            value = result ?? 0;
            return result is not null;
        }
        value = 0;
        known = _labels.ContainsKey(name) || _equates.ContainsKey(name);
        return false;
    }

    private long? Lookup(string name)
    {
        if (ResolveSymbol(name, out var value, out var known))
        {
            return value;
        }
        if (_finalPass)
        {
            throw new ExpressionException(known ? $"symbol '{name}' cannot be used before it is defined" : $"undefined symbol '{name}'");
        }
        // Layout: a forward reference; the stand-in value only sizes the statement.
        _standIn = true;
        return 0;
    }

    /// <summary>Evaluates an operand expression; errors are reported at the operand.</summary>
    private long Value(Statement statement, Operand operand)
    {
        var value = ExpressionParser.Evaluate(operand.Text, Lookup, out var error);
        if (error is not null)
        {
            Error(statement.Line, operand.Column, error);
            _operandFailed = true;
            return _currentAddress;
        }
        return value ?? 0;
    }
}

/// <summary>Bytes of one section as they are emitted.</summary>
internal sealed class SectionWriter(Section section)
{
    private readonly List<byte> _bytes = [];

    public Section Section { get; } = section;

    public int Length => _bytes.Count;

    public void Word(uint word)
    {
        _bytes.Add((byte)word);
        _bytes.Add((byte)(word >> 8));
        _bytes.Add((byte)(word >> 16));
        _bytes.Add((byte)(word >> 24));
    }

    public void Value(long value, int size)
    {
        for (var i = 0; i < size; i++)
        {
            _bytes.Add((byte)(value >> (8 * i)));
        }
    }

    public void Half(ushort half)
    {
        _bytes.Add((byte)half);
        _bytes.Add((byte)(half >> 8));
    }

    public void Byte(byte value) => _bytes.Add(value);

    public byte[] ToArray() => [.. _bytes];
}
