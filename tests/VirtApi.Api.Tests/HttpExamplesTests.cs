using System.Net.Http.Json;
using System.Text.Json;

namespace VirtApi.Api.Tests;

/// <summary>The examples in <c>http/</c> are run as they are, so they stay true.</summary>
public sealed class HttpExamplesTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(HttpExamples.HttpFolder(), "*.http").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Fact]
    public void EveryEndpointGroupHasAnExampleFile()
    {
        var files = Directory.GetFiles(HttpExamples.HttpFolder(), "*.http").Select(Path.GetFileName).ToArray();
        Assert.Contains("info.http", files);
        Assert.Contains("hosts.http", files);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task ExampleFile_RunsAgainstAFreshServer_WithTheStatusEachRequestStates(string fileName)
    {
        using var factory = new VirtApiFactory();
        using var client = factory.CreateClient();
        var path = Path.Combine(HttpExamples.HttpFolder(), fileName);
        var (variables, requests) = HttpExamples.Parse(fileName, await File.ReadAllTextAsync(path));
        Assert.NotEmpty(requests);
        // The file's base URL points at a real server; here it is the test server.
        variables["baseUrl"] = client.BaseAddress!.ToString().TrimEnd('/');
        var responses = new Dictionary<string, JsonElement>(StringComparer.Ordinal);

        foreach (var request in requests)
        {
            var url = HttpExamples.Substitute(request.Url, variables, responses);
            var body = request.Body is null ? null : HttpExamples.Substitute(request.Body, variables, responses);
            using var message = HttpExamples.ToMessage(request, url, body);
            using var response = await client.SendAsync(message);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == request.ExpectedStatus,
                $"{fileName}: '{request.Title}' answered {(int)response.StatusCode}, expected {request.ExpectedStatus}: {text}");
            if (request.Name is not null && text.Length > 0)
            {
                responses[request.Name] = JsonDocument.Parse(text).RootElement.Clone();
            }
        }
    }
}
