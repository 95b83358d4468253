using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace VirtApi.Api.Tests;

public sealed class OpenApiDocumentTests : IClassFixture<VirtApiFactory>
{
    private readonly VirtApiFactory _factory;

    public OpenApiDocumentTests(VirtApiFactory factory) => _factory = factory;

    /// <summary>Every API endpoint the server maps, with the responses it declares.</summary>
    private List<(string Path, string Method, string Name, int[] Statuses)> MappedEndpoints()
    {
        _factory.CreateClient();
        var sources = _factory.Services.GetRequiredService<IEnumerable<EndpointDataSource>>();
        return sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IEndpointNameMetadata>() is not null)
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(method => (
                Path: "/" + string.Join("/", e.RoutePattern.PathSegments.Select(seg => string.Concat(seg.Parts.Select(Part)))),
                Method: method.ToLowerInvariant(),
                Name: e.Metadata.GetMetadata<IEndpointNameMetadata>()!.EndpointName,
                Statuses: e.Metadata.OfType<IProducesResponseTypeMetadata>().Select(p => p.StatusCode).Distinct().Order().ToArray())))
            .ToList();

        static string Part(Microsoft.AspNetCore.Routing.Patterns.RoutePatternPart part) => part switch
        {
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            _ => "",
        };
    }

    [Fact]
    public async Task Document_ListsEveryEndpoint_WithOperationIdSummaryAndEveryDeclaredResponse()
    {
        var document = await _factory.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var endpoints = MappedEndpoints();
        Assert.Contains(endpoints, e => e.Name == "CreateHost");

        foreach (var (path, method, name, statuses) in endpoints)
        {
            Assert.True(document.GetProperty("paths").TryGetProperty(path, out var item), $"{path} is missing from the OpenAPI document");
            Assert.True(item.TryGetProperty(method, out var operation), $"{method.ToUpperInvariant()} {path} is missing");
            Assert.Equal(name, operation.GetProperty("operationId").GetString());
            Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()), $"{name} has no summary");
            var responses = operation.GetProperty("responses");
            Assert.NotEmpty(statuses);
            foreach (var status in statuses)
            {
                Assert.True(responses.TryGetProperty(status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var response), $"{name} does not document {status}");
                if (status >= 400)
                {
                    Assert.True(response.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{name} {status} is not a problem");
                }
            }
        }
    }

    [Fact]
    public async Task Document_DescribesEnumsAsKebabCaseStrings_AndCarriesExamples()
    {
        var document = await _factory.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var text = schemas.GetRawText();
        Assert.Contains("\"bare-metal\"", text, StringComparison.Ordinal);
        Assert.Contains("\"hosted\"", text, StringComparison.Ordinal);
        var request = schemas.GetProperty("CreateHostRequest").GetProperty("properties");
        Assert.Equal("host-c", request.GetProperty("name").GetProperty("examples")[0].GetString());
        Assert.Equal("integer", request.GetProperty("physicalCpus").GetProperty("type")[1].GetString());
        Assert.Equal(2, request.GetProperty("physicalCpus").GetProperty("type").GetArrayLength());
    }
}
