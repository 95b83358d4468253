using System.Globalization;

namespace VirtApi.Assembler;

/// <summary>
/// GNU as expressions: numbers (decimal, 0x, 0b, octal 0…, character 'c'), symbols, <c>.</c>, numeric
/// local references (<c>1b</c>, <c>1f</c>), unary <c>- ~ +</c>, binary <c>* / % &lt;&lt; &gt;&gt; &amp; | ^ + -</c>
/// with C precedence, parentheses, and the relocation operators <c>%hi %lo %pcrel_hi %pcrel_lo</c>.
/// Everything is linked at a fixed address, so an expression is a 64-bit integer once its symbols are known.
/// </summary>
internal sealed class ExpressionParser
{
    private readonly string _text;
    private readonly Func<string, long?> _symbol;
    private int _pos;

    private ExpressionParser(string text, Func<string, long?> symbol)
    {
        _text = text;
        _symbol = symbol;
    }

    /// <summary>
    /// Evaluates <paramref name="text"/>. Returns null with <paramref name="error"/> null when a symbol
    /// is not known yet (the first pass), or null with an error for bad syntax.
    /// </summary>
    public static long? Evaluate(string text, Func<string, long?> symbol, out string? error)
    {
        var parser = new ExpressionParser(text, symbol);
        try
        {
            var value = parser.ParseBinary(0);
            parser.SkipSpaces();
            if (parser._pos != text.Length)
            {
                error = $"unexpected '{text[parser._pos..]}' in expression '{text}'";
                return null;
            }
            error = null;
            return value;
        }
        catch (ExpressionException e)
        {
            error = e.Message;
            return null;
        }
    }

    private static int Precedence(string op) => op switch
    {
        "|" => 1,
        "^" => 2,
        "&" => 3,
        "<<" or ">>" => 4,
        "+" or "-" => 5,
        "*" or "/" or "%" => 6,
        _ => 0,
    };

    private long? ParseBinary(int minPrecedence)
    {
        var left = ParseUnary();
        while (true)
        {
            SkipSpaces();
            var op = PeekOperator();
            var precedence = op is null ? 0 : Precedence(op);
            if (precedence == 0 || precedence < minPrecedence)
            {
                return left;
            }
            _pos += op!.Length;
            var right = ParseBinary(precedence + 1);
            left = left is null || right is null ? null : Apply(op, left.Value, right.Value);
        }
    }

    private string? PeekOperator()
    {
        if (_pos >= _text.Length)
        {
            return null;
        }
        if (_pos + 1 < _text.Length && (_text.AsSpan(_pos, 2) is "<<" or ">>"))
        {
            return _text.Substring(_pos, 2);
        }
        return _text[_pos] is '+' or '-' or '*' or '/' or '%' or '&' or '|' or '^' ? _text[_pos].ToString() : null;
    }

    private static long Apply(string op, long a, long b) => op switch
    {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" => b == 0 ? throw new ExpressionException("division by zero") : a / b,
        "%" => b == 0 ? throw new ExpressionException("division by zero") : a % b,
        "<<" => a << (int)(b & 63),
        ">>" => a >> (int)(b & 63),
        "&" => a & b,
        "|" => a | b,
        "^" => a ^ b,
        _ => throw new ExpressionException($"unknown operator {op}"),
    };

    private long? ParseUnary()
    {
        SkipSpaces();
        if (_pos >= _text.Length)
        {
            throw new ExpressionException($"missing operand in '{_text}'");
        }
        var c = _text[_pos];
        switch (c)
        {
            case '-':
                _pos++;
                return -ParseUnary();
            case '+':
                _pos++;
                return ParseUnary();
            case '~':
                _pos++;
                return ~ParseUnary();
            case '(':
                _pos++;
                var inner = ParseBinary(0);
                Expect(')');
                return inner;
            case '%':
                return ParseRelocation();
            case '\'':
                return ParseCharacter();
        }
        if (char.IsAsciiDigit(c))
        {
            return ParseNumberOrLocalReference();
        }
        if (IsSymbolStart(c))
        {
            // The callback answers null for "not known yet" (first pass) and throws for "never defined".
            return _symbol(ReadSymbol());
        }
        throw new ExpressionException($"unexpected '{c}' in expression '{_text}'");
    }

    private long? ParseRelocation()
    {
        _pos++;
        var start = _pos;
        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_'))
        {
            _pos++;
        }
        var name = _text[start.._pos];
        SkipSpaces();
        Expect('(');
        if (name is "pcrel_hi" or "pcrel_lo")
        {
            // They depend on the pc of an instruction: the instruction encoder handles them.
            throw new ExpressionException($"%{name} is only valid as the whole immediate operand of an instruction");
        }
        var value = ParseBinary(0);
        Expect(')');
        if (value is null)
        {
            return null;
        }
        return name switch
        {
            "hi" => ((value.Value + 0x800) >> 12) & 0xfffff,
            "lo" => SignExtend12(value.Value),
            _ => throw new ExpressionException($"unknown relocation %{name}"),
        };
    }

    internal static long SignExtend12(long value) => ((value & 0xfff) ^ 0x800) - 0x800;

    private long ParseCharacter()
    {
        _pos++;
        if (_pos >= _text.Length)
        {
            throw new ExpressionException("unterminated character constant");
        }
        long value = _text[_pos];
        if (_text[_pos] == '\\' && _pos + 1 < _text.Length)
        {
            _pos++;
            value = StringEscapes.Escape(_text[_pos]) ?? throw new ExpressionException($"unknown escape \\{_text[_pos]}");
        }
        _pos++;
        if (_pos < _text.Length && _text[_pos] == '\'')
        {
            _pos++;
        }
        return value;
    }

    private long? ParseNumberOrLocalReference()
    {
        var start = _pos;
        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_'))
        {
            _pos++;
        }
        var token = _text[start.._pos];
        if (token.Length >= 2 && (token[^1] is 'b' or 'f') && token[..^1].All(char.IsAsciiDigit))
        {
            return _symbol(token);
        }
        if (!TryParseNumber(token, out var number))
        {
            throw new ExpressionException($"'{token}' is not a number");
        }
        return number;
    }

    public static bool TryParseNumber(string token, out long value)
    {
        value = 0;
        try
        {
            if (token.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                return ulong.TryParse(token.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex) && Set(out value, (long)hex);
            }
            if (token.StartsWith("0b", StringComparison.OrdinalIgnoreCase))
            {
                value = (long)Convert.ToUInt64(token[2..], 2);
                return true;
            }
            if (token.Length > 1 && token[0] == '0' && token.All(char.IsAsciiDigit))
            {
                value = (long)Convert.ToUInt64(token, 8);
                return true;
            }
            return ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var dec) && Set(out value, (long)dec);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            return false;
        }
    }

    private static bool Set(out long target, long value)
    {
        target = value;
        return true;
    }

    public static bool IsSymbolStart(char c) => char.IsAsciiLetter(c) || c is '_' or '.' or '$';

    public static bool IsSymbolChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '$';

    private string ReadSymbol()
    {
        var start = _pos;
        while (_pos < _text.Length && IsSymbolChar(_text[_pos]))
        {
            _pos++;
        }
        return _text[start.._pos];
    }

    private void Expect(char c)
    {
        SkipSpaces();
        if (_pos >= _text.Length || _text[_pos] != c)
        {
            throw new ExpressionException($"expected '{c}' in '{_text}'");
        }
        _pos++;
    }

    private void SkipSpaces()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
        {
            _pos++;
        }
    }
}

/// <summary>A malformed expression; caught inside the assembler and turned into an error.</summary>
internal class ExpressionException(string message) : Exception(message);

internal static class StringEscapes
{
    public static char? Escape(char c) => c switch
    {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        '0' => '\0',
        '\\' => '\\',
        '"' => '"',
        '\'' => '\'',
        'a' => '\a',
        'b' => '\b',
        'f' => '\f',
        'v' => '\v',
        _ => null,
    };
}
