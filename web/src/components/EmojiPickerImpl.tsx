// The emoji picker itself (emoji-picker-react, native emoji), loaded lazily.
import EmojiPicker, { EmojiStyle, Theme } from 'emoji-picker-react';

interface Props {
  theme: 'light' | 'dark';
  width: number;
  height: number;
  onPick: (emoji: string) => void;
  /** Focus the search field when the picker loads (off when quick reactions take focus). */
  autoFocus: boolean;
}

/** emoji-picker-react with native emoji: its data ships in our bundle, no CDN is contacted. */
export function EmojiPickerImpl({ theme, width, height, onPick, autoFocus }: Props) {
  return (
    <EmojiPicker
      emojiStyle={EmojiStyle.NATIVE}
      theme={theme === 'dark' ? Theme.DARK : Theme.LIGHT}
      width={width}
      height={height}
      lazyLoadEmojis
      autoFocusSearch={autoFocus}
      previewConfig={{ showPreview: false }}
      onEmojiClick={(d) => onPick(d.emoji)}
    />
  );
}
