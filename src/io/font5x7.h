/*
 * src/io/font5x7.h - a tiny built-in bitmap font for the quicklook legend (src/io/quicklook.c).
 *
 * One 5 x 7 glyph per printable ASCII character (32..126), drawn for eosight. Each glyph is 7
 * rows, top to bottom; in each row bit 4 is the leftmost column and bit 0 the rightmost. Text
 * is laid out in cells of EOS_FONT_CELL_W x EOS_FONT_CELL_H pixels (one blank column and row
 * of spacing).
 */
#ifndef EOS_IO_FONT5X7_H
#define EOS_IO_FONT5X7_H

#include <stdint.h>

#define EOS_FONT_W      5
#define EOS_FONT_H      7
#define EOS_FONT_CELL_W 6
#define EOS_FONT_CELL_H 8

/* The 7 row bitmaps of character c; bytes outside 32..126 (UTF-8 sequences included) get '?'. */
const uint8_t *eos__font_glyph(unsigned char c);

#endif /* EOS_IO_FONT5X7_H */
