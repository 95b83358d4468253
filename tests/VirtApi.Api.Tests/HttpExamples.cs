using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace VirtApi.Api.Tests;

/// <summary>
/// Reads the <c>.http</c> files in <c>http/</c> (the format of VS, VS Code REST Client and Rider):
/// <c>@name = value</c> file variables, requests separated by <c>###</c> lines whose title ends with
/// <c>expect NNN</c>, <c># @name x</c> to name a request, and <c>{{x.response.body.$.field}}</c> to use
/// a field of an earlier named response.
/// </summary>
internal static partial class HttpExamples
{
    public sealed record Request(string File, string Title, int ExpectedStatus, string? Name, string Method, string Url, List<(string Name, string Value)> Headers, string? Body);

    public static string HttpFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VirtApi.sln")))
            {
                return Path.Combine(dir.FullName, "http");
            }
        }
        throw new InvalidOperationException("VirtApi.sln not found above " + AppContext.BaseDirectory);
    }

    public static (Dictionary<string, string> Variables, List<Request> Requests) Parse(string file, string text)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        var requests = new List<Request>();
        var blocks = Regex.Split(text.Replace("\r\n", "\n", StringComparison.Ordinal), @"^###", RegexOptions.Multiline);
        foreach (Match v in FileVariable().Matches(blocks[0]))
        {
            variables[v.Groups[1].Value] = v.Groups[2].Value.Trim();
        }
        foreach (var block in blocks.Skip(1))
        {
            var lines = block.Split('\n');
            var title = lines[0].Trim();
            var expect = ExpectedStatus().Match(title);
            Assert.True(expect.Success, $"{file}: request '{title}' does not state 'expect NNN' in its ### title");
            string? name = null;
            var i = 1;
            for (; i < lines.Length && (lines[i].StartsWith('#') || lines[i].StartsWith("//", StringComparison.Ordinal) || lines[i].Trim().Length == 0); i++)
            {
                var named = RequestName().Match(lines[i]);
                if (named.Success)
                {
                    name = named.Groups[1].Value;
                }
            }
            Assert.True(i < lines.Length, $"{file}: '{title}' has no request line");
            var requestLine = lines[i++].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var headers = new List<(string, string)>();
            for (; i < lines.Length && lines[i].Trim().Length > 0; i++)
            {
                var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
                headers.Add((lines[i][..colon].Trim(), lines[i][(colon + 1)..].Trim()));
            }
            var body = string.Join('\n', lines.Skip(i)).Trim();
            requests.Add(new Request(file, title, int.Parse(expect.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), name, requestLine[0], requestLine[1], headers, body.Length == 0 ? null : body));
        }
        return (variables, requests);
    }

    /// <summary>Replaces <c>{{var}}</c> and <c>{{name.response.body.$.path}}</c>.</summary>
    public static string Substitute(string text, IReadOnlyDictionary<string, string> variables, IReadOnlyDictionary<string, JsonElement> responses) =>
        Placeholder().Replace(text, m =>
        {
            var key = m.Groups[1].Value.Trim();
            if (variables.TryGetValue(key, out var value))
            {
                return value;
            }
            var reference = ResponseReference().Match(key);
            Assert.True(reference.Success, $"unknown variable {{{{{key}}}}}");
            Assert.True(responses.TryGetValue(reference.Groups[1].Value, out var json), $"no earlier response named {reference.Groups[1].Value}");
            foreach (Match step in JsonPathStep().Matches(reference.Groups[2].Value))
            {
                json = step.Groups["index"].Success
                    ? json[int.Parse(step.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture)]
                    : json.GetProperty(step.Groups["name"].Value);
            }
            return json.ValueKind == JsonValueKind.String ? json.GetString()! : json.GetRawText();
        });

    public static HttpRequestMessage ToMessage(Request request, string url, string? body)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), url);
        var contentType = request.Headers.FirstOrDefault(h => h.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Value ?? "application/json";
        if (body is not null)
        {
            message.Content = new StringContent(body, Encoding.UTF8);
            message.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        }
        foreach (var (name, value) in request.Headers.Where(h => !h.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)))
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
        return message;
    }

    [GeneratedRegex(@"^@([A-Za-z0-9_]+)\s*=\s*(.*)$", RegexOptions.Multiline)]
    private static partial Regex FileVariable();

    [GeneratedRegex(@"expect\s+(\d{3})\s*$")]
    private static partial Regex ExpectedStatus();

    [GeneratedRegex(@"^#\s*@name\s+(\S+)")]
    private static partial Regex RequestName();

    [GeneratedRegex(@"\{\{([^}]+)\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^([A-Za-z0-9_]+)\.response\.body\.\$(.*)$")]
    private static partial Regex ResponseReference();

    [GeneratedRegex(@"\.(?<name>[A-Za-z0-9_]+)|\[(?<index>\d+)\]")]
    private static partial Regex JsonPathStep();
}
