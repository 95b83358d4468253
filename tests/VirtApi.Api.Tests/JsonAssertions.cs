using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VirtApi.Api.Tests;

internal static class JsonAssertions
{
    /// <summary>Reads an RFC 9457 problem and checks the fields every problem must have.</summary>
    public static async Task<JsonElement> ReadProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.Equal($"urn:virtapi:problem:{code}", body.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(body.GetProperty("correlationId").GetString()));
        return body;
    }

    /// <summary>The reasons given for <paramref name="field"/> in a validation problem.</summary>
    public static string[] ErrorsFor(this JsonElement problem, string field) =>
        problem.GetProperty("errors").TryGetProperty(field, out var reasons)
            ? reasons.EnumerateArray().Select(r => r.GetString()!).ToArray()
            : throw new Xunit.Sdk.XunitException($"no error for '{field}' in {problem.GetProperty("errors")}");
}
