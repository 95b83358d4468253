using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtApi.Migrations
{
    /// <inheritdoc />
    public partial class Snapshots : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Pages",
                columns: table => new
                {
                    Hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Data = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Compressed = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Pages", x => x.Hash);
                });

            migrationBuilder.CreateTable(
                name: "Snapshots",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ParentId = table.Column<Guid>(type: "TEXT", nullable: true),
                    VmId = table.Column<Guid>(type: "TEXT", nullable: false),
                    VmName = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Vcpus = table.Column<int>(type: "INTEGER", nullable: false),
                    MemoryMiB = table.Column<int>(type: "INTEGER", nullable: false),
                    CpuMode = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    CpuProfile = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    MemoryMode = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    InstructionBudget = table.Column<long>(type: "INTEGER", nullable: true),
                    VmState = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    InstructionsRetired = table.Column<long>(type: "INTEGER", nullable: false),
                    MachineState = table.Column<byte[]>(type: "BLOB", nullable: true),
                    MachineStateHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    FormatVersion = table.Column<int>(type: "INTEGER", nullable: false),
                    PageMap = table.Column<byte[]>(type: "BLOB", nullable: false),
                    PagesReferenced = table.Column<int>(type: "INTEGER", nullable: false),
                    ZeroPages = table.Column<int>(type: "INTEGER", nullable: false),
                    PagesNewlyStored = table.Column<int>(type: "INTEGER", nullable: false),
                    BytesStored = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Snapshots", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Snapshots_Images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "Images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_Snapshots_Snapshots_ParentId",
                        column: x => x.ParentId,
                        principalTable: "Snapshots",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "PageRefs",
                columns: table => new
                {
                    Hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    RefCount = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PageRefs", x => x.Hash);
                    table.ForeignKey(
                        name: "FK_PageRefs_Pages_Hash",
                        column: x => x.Hash,
                        principalTable: "Pages",
                        principalColumn: "Hash",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_PageRefs_RefCount",
                table: "PageRefs",
                column: "RefCount");

            migrationBuilder.CreateIndex(
                name: "IX_Snapshots_ImageId",
                table: "Snapshots",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_Snapshots_ParentId",
                table: "Snapshots",
                column: "ParentId");

            migrationBuilder.CreateIndex(
                name: "IX_Snapshots_VmId",
                table: "Snapshots",
                column: "VmId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "PageRefs");

            migrationBuilder.DropTable(
                name: "Snapshots");

            migrationBuilder.DropTable(
                name: "Pages");
        }
    }
}
